"""Three protocols enforced end to end: the warehouse, the recipients' views, expiry, decisions and IG reports."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.support.hub import HubEnv, Worker
from tests.support.open_data import EASTBOURNE_STREET, ESSEX_STREET, HAMPSHIRE_STREET
from warehouse.governance.retention import run_retention
from warehouse.schema.db import session_scope

pytestmark = pytest.mark.integration

HEADER = """
version: 1
valid_from: 2019-01-01
review_due: 2030-01-01
dpia_reference: TEST-DPIA
purposes: [Testing the hub]
legal_gateways: [{{ref: cda-1998-s115}}]
datasets: [police-uk-street]
retention: {{months: 12}}
id: {id}
title: {id}
status: {status}
data_owners: [{{id: {owner}, name: {owner}, datasets: [police-uk-street]}}]
recipients: [{{id: {recipient}, name: {recipient}, kind: csp}}]
signatories: [{{role: SIRO, organisation: {owner}}}]
"""
SUSSEX_TO_A = (
    HEADER.format(id="sussex-to-a", status="active", owner="sussex-police", recipient="csp-a")
    + """
clauses:
  - {id: records, recipients: [csp-a], datasets: [police-uk-street], fields: [category, period, location],
     spatial_precision: ward, temporal_precision: month, output: record_level,
     disclosure: {min_cell_count: 1, round_to: 1}}
"""
)
ESSEX_TO_B = (
    HEADER.format(id="essex-to-b", status="active", owner="essex-police", recipient="csp-b")
    + """
clauses:
  - {id: counts, recipients: [csp-b], datasets: [police-uk-street], fields: [category, period, location],
     spatial_precision: lsoa, temporal_precision: month, output: aggregates_only,
     disclosure: {min_cell_count: 8, round_to: 5}}
"""
)
ESSEX_TO_D = (
    HEADER.format(id="essex-to-d", status="active", owner="essex-police", recipient="csp-d")
    + """
clauses:
  - {id: wards, recipients: [csp-d], datasets: [police-uk-street], fields: [category, period, location],
     spatial_precision: ward, temporal_precision: month, output: record_level,
     disclosure: {min_cell_count: 1, round_to: 1}}
"""
)
HANTS_TO_A = """
clauses:
  - {id: no-categories, recipients: [csp-a], datasets: [police-uk-street], fields: [period, location],
     spatial_precision: ward, temporal_precision: month, output: record_level,
     disclosure: {min_cell_count: 1, round_to: 1}}
"""


def hants_to_a(status: str) -> str:
    return HEADER.format(id="hants-to-a", status=status, owner="hampshire-police", recipient="csp-a") + HANTS_TO_A


FEEDS = {  # partner -> (source file, first row, rows)
    "sussex-police": (EASTBOURNE_STREET, 0, 300),
    "essex-police": (ESSEX_STREET, 0, 400),
    "hampshire-police": (HAMPSHIRE_STREET, 0, 200),
    "kent-police": (HAMPSHIRE_STREET, 1000, 50),  # no protocol covers Kent
}
LATE_HANTS = ("feeds/police_uk/2019-01-hampshire-street.csv", 500, 100)  # published after hants-to-a expires


@pytest.fixture(scope="module")
def protocol_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("protocols")
    (directory / "sussex-to-a.yaml").write_text(SUSSEX_TO_A)
    (directory / "essex-to-b.yaml").write_text(ESSEX_TO_B)
    (directory / "essex-to-d.yaml").write_text(ESSEX_TO_D)  # Essex events get wards too: CSP A must not see them
    (directory / "hants-to-a.yaml").write_text(hants_to_a("active"))
    return directory


@pytest.fixture(scope="module")
def protocol_paths(protocol_dir: Path) -> list[Path]:
    return [protocol_dir]


def _extract(shared_data: Path, tmp: Path, source: str, first: int, count: int) -> Path:
    with (shared_data / source).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([rows[0], *rows[1 + first : 1 + first + count]])
    path = tmp / f"{Path(source).stem}-{first}-{count}.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _publish(hub_env: HubEnv, path: Path, partner: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "deploy.cli", "publish", "police-uk-street", str(path), "--partner", partner],
        env={**os.environ, **hub_env.env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr


def _query(hub_env: HubEnv, sql: str) -> list[tuple[Any, ...]]:
    with hub_env.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql)).all()]


@pytest.fixture(scope="module")
def loaded(
    hub_env: HubEnv, worker: Worker, shared_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Worker]:
    tmp = tmp_path_factory.mktemp("feeds")
    for partner, (source, first, count) in FEEDS.items():
        _publish(hub_env, _extract(shared_data, tmp, source, first, count), partner)
    worker.wait_until_loaded()
    yield worker


@pytest.fixture(scope="module")
def after_expiry(
    loaded: Worker, hub_env: HubEnv, protocol_dir: Path, shared_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Worker]:
    """hants-to-a is expired and the worker restarted; then more Hampshire events are published."""
    loaded.stop()
    (protocol_dir / "hants-to-a.yaml").write_text(hants_to_a("expired"))
    hub_env.reload_protocols()  # as the API would on restart
    restarted = Worker(hub_env, tmp_path_factory.mktemp("worker2") / "worker.log")
    _publish(hub_env, _extract(shared_data, tmp_path_factory.mktemp("late"), *LATE_HANTS), "hampshire-police")
    restarted.wait_until_loaded()
    yield restarted
    restarted.stop()


def test_the_warehouse_holds_only_what_the_protocols_allow(loaded: Worker, hub_env: HubEnv) -> None:
    by_partner = {
        r[0]: r[1:]
        for r in _query(
            hub_env,
            "SELECT partner, count(*), count(geom), count(lsoa_code), count(category), "
            "count(*) FILTER (WHERE attributes <> '{}'::jsonb), array_agg(DISTINCT spatial_precision) "
            "FROM event GROUP BY partner",
        )
    }
    assert set(by_partner) == {"sussex-police", "essex-police", "hampshire-police"}  # nothing from Kent
    # Sussex to CSP A at ward precision: no point, no LSOA (finer than a ward), no attributes.
    assert by_partner["sussex-police"] == (300, 0, 0, 300, 0, ["ward"])
    # Essex to CSP B at LSOA precision: the source's LSOA code, no point, no ward-only precision.
    assert by_partner["essex-police"][:2] == (400, 0) and by_partner["essex-police"][-1] == ["lsoa"]
    # Hampshire to CSP A without categories.
    assert by_partner["hampshire-police"] == (200, 0, 0, 0, 0, ["ward"])


def test_a_recipient_without_a_clause_gets_nothing(loaded: Worker, hub_env: HubEnv) -> None:
    params = {"dataset": "police-uk-street", "level": "ward", "from": "2019-01", "to": "2019-01"}
    assert hub_env.api_client("csp-c", "analyst").get("/v1/counts", params=params).status_code == 403
    assert hub_env.api_client("csp-b", "analyst").get("/v1/counts", params=params).status_code == 403  # finer than LSOA
    public = hub_env.client().get("/v1/counts", params={**params, "level": "lsoa"})  # no key at all
    assert public.status_code == 403
    assert "'public'" in public.json()["detail"]


def test_each_recipient_sees_only_its_own_flows_at_its_precision(loaded: Worker, hub_env: HubEnv) -> None:
    params = {"dataset": "police-uk-street", "from": "2019-01", "to": "2019-01"}
    a = hub_env.api_client("csp-a", "analyst").get("/v1/counts", params={**params, "level": "ward"}).json()
    [(a_expected,)] = _query(
        hub_env,
        "SELECT count(*) FROM event WHERE partner IN ('sussex-police', 'hampshire-police') AND ward_code IS NOT NULL",
    )
    assert sum(r["count"] for r in a["rows"]) == a_expected
    b = hub_env.api_client("csp-b", "analyst").get("/v1/counts", params={**params, "level": "lsoa"}).json()
    assert b["protocols"] == ["essex-to-b@1#counts"]
    rule = b["disclosure"]
    assert (rule["source"], rule["min_cell_count"], rule["round_to"]) == ("protocol", 8, 5)
    expected: dict[str, int] = dict(
        _query(
            hub_env,
            "SELECT lsoa_code, count(*) FROM event WHERE partner = 'essex-police' AND lsoa_code IS NOT NULL GROUP BY 1",
        )
    )
    assert {r["area_code"] for r in b["rows"]} == set(expected)
    for row in b["rows"]:
        true = int(expected[row["area_code"]])
        # 1-7 always suppressed; larger cells rounded, or suppressed as well to protect the totals
        assert row["count"] is None if true < 8 else row["count"] in (None, (true + 2) // 5 * 5)


def test_every_event_has_exactly_one_decision(after_expiry: Worker, hub_env: HubEnv) -> None:
    published = sum(count for _, _, count in FEEDS.values()) + LATE_HANTS[2]
    [(decisions, events)] = _query(hub_env, "SELECT count(*), count(DISTINCT event_id) FROM decision")
    assert decisions == events == published
    [(loaded_events,)] = _query(hub_env, "SELECT count(*) FROM event")
    [(withheld,)] = _query(hub_env, "SELECT count(*) FROM decision WHERE outcome = 'withheld'")
    [(dead,)] = _query(hub_env, "SELECT count(*) FROM dead_letter")
    assert loaded_events + withheld + dead == published


def test_expiring_a_protocol_stops_new_flows(after_expiry: Worker, hub_env: HubEnv) -> None:
    [(late_withheld,)] = _query(
        hub_env, "SELECT count(*) FROM decision WHERE partner = 'hampshire-police' AND outcome = 'withheld'"
    )
    [(hants_loaded,)] = _query(hub_env, "SELECT count(*) FROM event WHERE partner = 'hampshire-police'")
    assert late_withheld == LATE_HANTS[2]
    assert hants_loaded == FEEDS["hampshire-police"][2]
    # Views come from the protocols in force at query time: CSP A no longer sees the Hampshire events.
    params = {"dataset": "police-uk-street", "level": "ward", "from": "2019-01", "to": "2019-01"}
    a = hub_env.api_client("csp-a", "analyst").get("/v1/counts", params=params).json()
    assert a["protocols"] == ["sussex-to-a@1#records"]
    [(sussex_with_ward,)] = _query(
        hub_env, "SELECT count(*) FROM event WHERE partner = 'sussex-police' AND ward_code IS NOT NULL"
    )
    assert sum(r["count"] for r in a["rows"]) == sussex_with_ward


def test_the_ig_endpoints_report_the_same_counts(after_expiry: Worker, hub_env: HubEnv) -> None:
    assert (
        hub_env.api_client("csp-c", "analyst")
        .get("/v1/counts", params={"dataset": "police-uk-street", "from": "2019-01", "to": "2019-01"})
        .status_code
        == 403
    )
    ig = hub_env.api_client("hub", "ig_lead")
    flows = ig.get("/v1/ig/flows").json()
    by_protocol: dict[str, int] = {}
    for flow in flows:
        by_protocol[flow["protocol"]] = by_protocol.get(flow["protocol"], 0) + flow["events"]
    # Per recipient: essex-to-b and essex-to-d both carried the same 400 Essex events.
    assert by_protocol == {"sussex-to-a@1": 300, "essex-to-b@1": 400, "essex-to-d@1": 400, "hants-to-a@1": 200}
    essex_ig = {
        (f["protocol"], f["partner"]) for f in hub_env.api_client("essex-police", "ig_lead").get("/v1/ig/flows").json()
    }
    assert essex_ig == {("essex-to-b@1", "essex-police"), ("essex-to-d@1", "essex-police")}
    withheld = {(w["partner"], w["code"]): w["events"] for w in ig.get("/v1/ig/withheld").json()}
    assert sum(n for (p, _), n in withheld.items() if p == "kent-police") == 50
    assert sum(n for (p, _), n in withheld.items() if p == "hampshire-police") == 100
    register = {p["label"]: p for p in ig.get("/v1/ig/protocols").json()}
    assert register["hants-to-a@1"]["in_force"] is False
    assert hub_env.api_client("csp-a", "analyst").get("/v1/ig/flows").status_code == 403
    log = ig.get("/v1/ig/access-log", params={"limit": 1000}).json()
    assert any(entry["org"] == "csp-c" and entry["status"] == 403 for entry in log)
    assert all(set(entry) >= {"org", "role", "endpoint", "protocols", "rows", "status"} for entry in log)


def test_retention_deletes_expired_events_records_it_and_leaves_the_audit_alone(
    after_expiry: Worker, hub_env: HubEnv, shared_data: Path, tmp_path: Path
) -> None:
    [(events_before,)] = _query(hub_env, "SELECT count(*) FROM event")
    [(decisions_before,)] = _query(hub_env, "SELECT count(*) FROM decision")
    [(first_expiry, kept_until)] = _query(hub_env, "SELECT min(retain_until), max(retain_until) FROM event")
    with session_scope(hub_env.engine) as session:
        assert run_retention(session, first_expiry) == {}  # nothing is past retention on its last day
    with session_scope(hub_env.engine) as session:
        deleted = run_retention(session, kept_until + timedelta(days=1))
    assert deleted == {"police-uk-street": events_before}
    assert _query(hub_env, "SELECT count(*) FROM event") == [(0,)]
    assert _query(hub_env, "SELECT dataset, deleted FROM retention_run") == [("police-uk-street", events_before)]
    assert _query(hub_env, "SELECT count(*) FROM decision") == [(decisions_before,)]
    with pytest.raises(DBAPIError, match="append-only"), hub_env.engine.begin() as conn:
        conn.execute(text("DELETE FROM decision"))
    # Re-publishing what retention deleted does not bring it back.
    source, first, count = FEEDS["sussex-police"]
    _publish(hub_env, _extract(shared_data, tmp_path, source, first, count), "sussex-police")
    after_expiry.wait_until_loaded()
    assert _query(hub_env, "SELECT count(*) FROM event") == [(0,)]
