"""Data ownership end to end, under the packaged protocols: police-records published as Eastbourne Borough Council
(a data owner of repeat-victimisation-counts, for council-asb only) are all withheld with `not_data_owner` and
none is loaded, while the same file published by Sussex Police, and the council's own ASB cases, are released."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.support.hub import HubEnv, Worker

pytestmark = pytest.mark.integration

KEYS = {"HUB_LINKAGE_KEY_PERSON": "p" * 48, "HUB_LINKAGE_KEY_RECORD_IDS": "r" * 48}
EASTBOURNE = "E07000061"
ROWS = {"police-records": 120, "council-asb": 60}
FORGER, OWNER = "eastbourne-council", "sussex-police"


def _hub(hub_env: HubEnv, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "deploy.cli", *args],
        env={**os.environ, **hub_env.env, **KEYS},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, (args, result.stdout[-2000:], result.stderr[-2000:])
    return result.stdout + result.stderr  # the publish summary is on stderr


def _query(hub_env: HubEnv, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with hub_env.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(sql), params).all()]


@pytest.fixture(scope="module")
def loaded(hub_env: HubEnv, worker: Worker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, int]]:
    """One generated police-records file published twice (as the council, then as the police), and the council's
    own ASB file, all loaded; how many events each publication sent, by "partner dataset"."""
    tmp = tmp_path_factory.mktemp("ownership")
    files: dict[str, Path] = {}
    for dataset, rows in ROWS.items():
        files[dataset] = tmp / f"{dataset}.csv"
        _hub(hub_env, "generate", dataset, str(files[dataset]), "--rows", str(rows), "--district", EASTBOURNE,
             "--start", "2025-01", "--months", "6", "--seed", "12")  # fmt: skip
    published: dict[str, int] = {}
    for dataset, partner in (("police-records", FORGER), ("police-records", OWNER), ("council-asb", FORGER)):
        out = _hub(hub_env, "publish", dataset, str(files[dataset]), "--partner", partner)
        summary = re.search(r"(\d+) rows read, (\d+) published, .* 0 rejected", out)
        assert summary is not None and int(summary[1]) == ROWS[dataset], out
        published[f"{partner} {dataset}"] = int(summary[2])
    assert published[f"{FORGER} police-records"] == ROWS["police-records"]  # every row is an event to withhold
    worker.wait_until_loaded()
    yield published


def test_every_police_record_published_as_the_council_is_withheld_as_not_data_owner(
    loaded: dict[str, int], hub_env: HubEnv
) -> None:
    decisions = _query(
        hub_env,
        "SELECT outcome, code, reason, count(DISTINCT event_id) FROM decision "
        "WHERE partner = :partner AND dataset = 'police-records' GROUP BY 1, 2, 3",
        partner=FORGER,
    )
    assert decisions == [
        (
            "withheld",
            "not_data_owner",
            "partner eastbourne-council is not a data owner of dataset police-records under "
            "repeat-victimisation-counts@1",
            ROWS["police-records"],
        )
    ]


def test_no_police_record_published_as_the_council_is_loaded(loaded: dict[str, int], hub_env: HubEnv) -> None:
    assert _query(
        hub_env, "SELECT count(*) FROM event WHERE partner = :p AND dataset = 'police-records'", p=FORGER
    ) == [(0,)]


def test_withholding_is_not_dead_lettering(loaded: dict[str, int], hub_env: HubEnv) -> None:
    assert _query(hub_env, "SELECT count(*) FROM dead_letter") == [(0,)]


def test_the_real_owner_and_the_councils_own_dataset_are_released(loaded: dict[str, int], hub_env: HubEnv) -> None:
    released = dict(
        _query(
            hub_env,
            "SELECT partner || ' ' || dataset, count(DISTINCT event_id) FROM decision WHERE outcome = 'released' "
            "GROUP BY 1",
        )
    )
    assert released == {key: n for key, n in loaded.items() if key != f"{FORGER} police-records"}


def test_the_owners_records_count_under_the_protocol_the_council_also_signed(
    loaded: dict[str, int], hub_env: HubEnv
) -> None:
    clauses = _query(hub_env, "SELECT DISTINCT unnest(protocols) FROM event WHERE partner = :p ORDER BY 1", p=OWNER)
    assert ("repeat-victimisation-counts@1#police-repeat-victim-counts",) in clauses


def test_nothing_of_the_councils_counts_under_the_police_clause(loaded: dict[str, int], hub_env: HubEnv) -> None:
    assert _query(
        hub_env,
        "SELECT count(*) FROM event WHERE partner = :p AND 'repeat-victimisation-counts@1#police-repeat-victim-counts'"
        " = ANY(protocols)",
        p=FORGER,
    ) == [(0,)]


@pytest.fixture(scope="module")
def withheld_views(loaded: dict[str, int], hub_env: HubEnv) -> dict[str, list[dict[str, Any]]]:
    """/v1/ig/withheld as the operator, the council and the police see it."""
    return {org: hub_env.api_client(org, "ig_lead").get("/v1/ig/withheld").json() for org in ("hub", FORGER, OWNER)}


# The operator sees everything, the council its own withheld events.
BOTH_VIEWS = pytest.mark.parametrize("org", ["hub", FORGER])


@BOTH_VIEWS
def test_the_ig_view_shows_the_code_of_the_withheld_events(
    withheld_views: dict[str, list[dict[str, Any]]], org: str
) -> None:
    mine = [w for w in withheld_views[org] if w["partner"] == FORGER]
    assert {(w["code"], w["dataset"]) for w in mine} == {("not_data_owner", "police-records")}, org


@BOTH_VIEWS
def test_the_ig_view_counts_the_withheld_events(withheld_views: dict[str, list[dict[str, Any]]], org: str) -> None:
    mine = [w for w in withheld_views[org] if w["partner"] == FORGER]
    assert sum(w["events"] for w in mine) == ROWS["police-records"], org


def test_a_partner_sees_only_its_own_withheld_events(withheld_views: dict[str, list[dict[str, Any]]]) -> None:
    assert all(w["partner"] == OWNER for w in withheld_views[OWNER])


def test_the_register_shows_who_provides_what(loaded: dict[str, int], hub_env: HubEnv) -> None:
    register = {p["label"]: p for p in hub_env.api_client("hub", "ig_lead").get("/v1/ig/protocols").json()}
    assert register["repeat-victimisation-counts@1"]["datasets_by_owner"] == {
        OWNER: ["police-records"],
        FORGER: ["council-asb"],
    }
