"""Data ownership end to end, under the packaged protocols: police-records published as Eastbourne Borough Council
(a data owner of repeat-victimisation-counts, for council-asb only) are all withheld with `not_data_owner` and
none is loaded, while the same file published by Sussex Police, and the council's own ASB cases, are released."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.support.hub import HubEnv, Worker
from tests.support.open_data import CODEPOINT
from tests.support.placement import placer
from tests.support.reference_data import WARD_LOOKUPS, load_reference

pytestmark = pytest.mark.integration

KEYS = {"HUB_LINKAGE_KEY_PERSON": "p" * 48, "HUB_LINKAGE_KEY_RECORD_IDS": "r" * 48}
EASTBOURNE = "E07000061"
ROWS = {"police-records": 120, "council-asb": 60}
FORGER, OWNER = "eastbourne-council", "sussex-police"
# The areas of the recipients of the clauses granting these datasets (east-sussex-csp, eastbourne-csp): the clauses
# are scoped `of: recipient`, so a record without a place in East Sussex is withheld `outside_scope`.
EAST_SUSSEX = {"E07000061", "E07000062", "E07000063", "E07000064", "E07000065"}
WITHDRAWN = {"police-records": ("Crime Status", "Cancelled"), "council-asb": ("Case Status", "Deleted")}


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
def worker(hub_env: HubEnv, shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """The worker, started after the postcodes the generator draws from and the ward lookups are loaded."""
    load_reference(hub_env.database_url, lookups=WARD_LOOKUPS, postcodes=CODEPOINT, data=shared_data)
    running = Worker(hub_env, tmp_path_factory.mktemp("worker") / "worker.log")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def files(hub_env: HubEnv, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One generated police-records file and the council's ASB file."""
    tmp = tmp_path_factory.mktemp("ownership")
    files: dict[str, Path] = {}
    for dataset, rows in ROWS.items():
        files[dataset] = tmp / f"{dataset}.csv"
        _hub(hub_env, "generate", dataset, str(files[dataset]), "--rows", str(rows), "--district", EASTBOURNE,
             "--start", "2025-01", "--months", "6", "--seed", "12")  # fmt: skip
    return files


def _unplaced(files: dict[str, Path], shared_data: Path) -> dict[str, int]:
    """How many kept (not withdrawn) records of each dataset give no place in East Sussex (grid, else postcode)."""
    inside = placer(shared_data, EAST_SUSSEX)
    found: dict[str, int] = {}
    for dataset, path in files.items():
        column, withdrawn = WITHDRAWN[dataset]
        with path.open(encoding="utf-8", newline="") as handle:
            rows = [r for r in csv.DictReader(handle) if r[column] != withdrawn]
        found[dataset] = sum(
            1
            for r in rows
            if not inside((r["Easting"], r["Northing"]) if r["Easting"] and r["Northing"] else r["Postcode"])
        )
    return found


@pytest.fixture(scope="module")
def loaded(hub_env: HubEnv, worker: Worker, files: dict[str, Path]) -> Iterator[dict[str, int]]:
    """The police-records file published twice (as the council, then as the police), and the council's own ASB
    file, all loaded; how many events each publication sent, by "partner dataset"."""
    published: dict[str, int] = {}
    for dataset, partner in (("police-records", FORGER), ("police-records", OWNER), ("council-asb", FORGER)):
        out = _hub(hub_env, "publish", dataset, str(files[dataset]), "--partner", partner)
        summary = re.search(r"(\d+) rows read, (\d+) published, .* 0 rejected", out)
        assert summary is not None and int(summary[1]) == ROWS[dataset], out
        published[f"{partner} {dataset}"] = int(summary[2])
    assert published[f"{FORGER} police-records"] == ROWS["police-records"]  # every row is an event to withhold
    worker.wait_until_loaded()
    # The lag reads the group's offsets and the topics' metadata a moment apart: wait (bounded) until every event
    # published has its decision or dead letter, so a slow last batch is not read as a lost event. The tests then
    # assert the exact outcomes; an event really lost still fails them after the wait.
    deadline = time.monotonic() + 60
    while _outcomes(hub_env) < sum(published.values()) and time.monotonic() < deadline:
        time.sleep(0.5)
    yield published


def _outcomes(hub_env: HubEnv) -> int:
    """Events with a decision (per partner and dataset) or a dead letter."""
    [(decided, dead)] = _query(
        hub_env,
        "SELECT (SELECT count(*) FROM (SELECT DISTINCT partner, dataset, event_id FROM decision) d), "
        "(SELECT count(*) FROM dead_letter)",
    )
    return int(decided) + int(dead)


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
    assert _query(
        hub_env, "SELECT count(*) FROM event WHERE partner = :p AND dataset = 'police-records'", p=FORGER
    ) == [(0,)]
    assert _query(hub_env, "SELECT count(*) FROM dead_letter") == [(0,)]


def test_the_real_owner_and_the_councils_own_dataset_are_released(
    loaded: dict[str, int], hub_env: HubEnv, files: dict[str, Path], shared_data: Path
) -> None:
    released = dict(
        _query(
            hub_env,
            "SELECT partner || ' ' || dataset, count(DISTINCT event_id) FROM decision WHERE outcome = 'released' "
            "GROUP BY 1",
        )
    )
    unplaced = _unplaced(files, shared_data)
    assert released == {
        key: n - unplaced[key.split()[1]] for key, n in loaded.items() if key != f"{FORGER} police-records"
    }
    outside = dict(
        _query(
            hub_env,
            "SELECT partner || ' ' || dataset, count(DISTINCT event_id) FROM decision WHERE code = 'outside_scope' "
            "GROUP BY 1",
        )
    )
    assert outside == {f"{p} {d}": unplaced[d] for p, d in ((OWNER, "police-records"), (FORGER, "council-asb"))
                       if unplaced[d]}  # fmt: skip
    clauses = _query(
        hub_env, "SELECT DISTINCT unnest(protocols) FROM event WHERE partner = :p ORDER BY 1", p=OWNER
    )  # the police's records count under the protocol the council also signed, and nothing of the council's
    assert ("repeat-victimisation-counts@1#police-repeat-victim-counts",) in clauses
    assert _query(
        hub_env,
        "SELECT count(*) FROM event WHERE partner = :p AND 'repeat-victimisation-counts@1#police-repeat-victim-counts'"
        " = ANY(protocols)",
        p=FORGER,
    ) == [(0,)]


def test_the_ig_views_show_the_code_and_who_provides_what(
    loaded: dict[str, int], hub_env: HubEnv, files: dict[str, Path], shared_data: Path
) -> None:
    asb_outside = _unplaced(files, shared_data)["council-asb"]  # the council's own cases without a place
    for org in ("hub", FORGER):  # the operator sees everything, the council its own withheld events
        withheld = hub_env.api_client(org, "ig_lead").get("/v1/ig/withheld").json()
        mine = [w for w in withheld if w["partner"] == FORGER]
        expected = {("not_data_owner", "police-records")} | (
            {("outside_scope", "council-asb")} if asb_outside else set()
        )
        assert {(w["code"], w["dataset"]) for w in mine} == expected, org
        assert sum(w["events"] for w in mine if w["code"] == "not_data_owner") == ROWS["police-records"], org
        assert sum(w["events"] for w in mine if w["code"] == "outside_scope") == asb_outside, org
    police_view = hub_env.api_client(OWNER, "ig_lead").get("/v1/ig/withheld").json()
    assert all(w["partner"] == OWNER for w in police_view)
    register = {p["label"]: p for p in hub_env.api_client("hub", "ig_lead").get("/v1/ig/protocols").json()}
    assert register["repeat-victimisation-counts@1"]["datasets_by_owner"] == {
        OWNER: ["police-records"],
        FORGER: ["council-asb"],
    }
