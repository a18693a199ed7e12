"""Three protocols enforced end to end: the warehouse, the recipients' views, expiry, decisions and IG reports."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from httpx import Response
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


@pytest.fixture(scope="module")
def warehouse_by_partner(loaded: Worker, hub_env: HubEnv) -> dict[str, tuple[Any, ...]]:
    """Per partner: events, points, LSOA codes, categories, events with attributes, and spatial precisions."""
    return {
        r[0]: r[1:]
        for r in _query(
            hub_env,
            "SELECT partner, count(*), count(geom), count(lsoa_code), count(category), "
            "count(*) FILTER (WHERE attributes <> '{}'::jsonb), array_agg(DISTINCT spatial_precision) "
            "FROM event GROUP BY partner",
        )
    }


def test_the_warehouse_holds_nothing_from_a_partner_without_a_protocol(
    warehouse_by_partner: dict[str, tuple[Any, ...]],
) -> None:
    assert set(warehouse_by_partner) == {"sussex-police", "essex-police", "hampshire-police"}  # nothing from Kent


def test_the_warehouse_holds_sussex_events_at_ward_precision_only(
    warehouse_by_partner: dict[str, tuple[Any, ...]],
) -> None:
    # Sussex to CSP A at ward precision: no point, no LSOA (finer than a ward), no attributes.
    assert warehouse_by_partner["sussex-police"] == (300, 0, 0, 300, 0, ["ward"])


def test_the_warehouse_holds_essex_events_at_lsoa_precision_only(
    warehouse_by_partner: dict[str, tuple[Any, ...]],
) -> None:
    # Essex to CSP B at LSOA precision: the source's LSOA code, no point, no ward-only precision.
    essex = warehouse_by_partner["essex-police"]
    assert essex[:2] == (400, 0) and essex[-1] == ["lsoa"]


def test_the_warehouse_holds_hampshire_events_without_categories(
    warehouse_by_partner: dict[str, tuple[Any, ...]],
) -> None:
    # Hampshire to CSP A without categories.
    assert warehouse_by_partner["hampshire-police"] == (200, 0, 0, 0, 0, ["ward"])


COUNTS = {"dataset": "police-uk-street", "from": "2019-01", "to": "2019-01"}


@pytest.mark.parametrize(
    ("org", "level"),
    [("csp-c", "ward"), ("csp-b", "ward")],
    ids=["no-clause", "finer-than-its-lsoa-clause"],
)
def test_a_recipient_without_a_clause_gets_nothing(loaded: Worker, hub_env: HubEnv, org: str, level: str) -> None:
    assert hub_env.api_client(org, "analyst").get("/v1/counts", params={**COUNTS, "level": level}).status_code == 403


@pytest.fixture(scope="module")
def public_counts(loaded: Worker, hub_env: HubEnv) -> Response:
    """/v1/counts asked with no key at all."""
    response: Response = hub_env.client().get("/v1/counts", params={**COUNTS, "level": "lsoa"})
    return response


def test_the_public_without_a_clause_gets_nothing(public_counts: Response) -> None:
    assert public_counts.status_code == 403


def test_the_public_is_told_it_is_refused_as_the_public(public_counts: Response) -> None:
    assert "'public'" in public_counts.json()["detail"]


@pytest.fixture(scope="module")
def csp_a_wards(loaded: Worker, hub_env: HubEnv) -> dict[str, Any]:
    """CSP A's ward counts while all four protocols are in force."""
    body: dict[str, Any] = (
        hub_env.api_client("csp-a", "analyst").get("/v1/counts", params={**COUNTS, "level": "ward"}).json()
    )
    return body


@pytest.fixture(scope="module")
def csp_b_lsoas(loaded: Worker, hub_env: HubEnv) -> dict[str, Any]:
    """CSP B's LSOA counts."""
    body: dict[str, Any] = (
        hub_env.api_client("csp-b", "analyst").get("/v1/counts", params={**COUNTS, "level": "lsoa"}).json()
    )
    return body


@pytest.fixture(scope="module")
def essex_lsoa_counts(loaded: Worker, hub_env: HubEnv) -> dict[str, int]:
    expected: dict[str, int] = dict(
        _query(
            hub_env,
            "SELECT lsoa_code, count(*) FROM event WHERE partner = 'essex-police' AND lsoa_code IS NOT NULL GROUP BY 1",
        )
    )
    return expected


def test_a_recipient_sees_all_of_its_own_flows(csp_a_wards: dict[str, Any], hub_env: HubEnv) -> None:
    [(a_expected,)] = _query(
        hub_env,
        "SELECT count(*) FROM event WHERE partner IN ('sussex-police', 'hampshire-police') AND ward_code IS NOT NULL",
    )
    assert sum(r["count"] for r in csp_a_wards["rows"]) == a_expected


def test_a_recipient_sees_its_counts_under_its_own_clause(csp_b_lsoas: dict[str, Any]) -> None:
    assert csp_b_lsoas["protocols"] == ["essex-to-b@1#counts"]


def test_a_recipient_sees_its_counts_under_its_protocols_disclosure_rule(csp_b_lsoas: dict[str, Any]) -> None:
    rule = csp_b_lsoas["disclosure"]
    assert (rule["source"], rule["min_cell_count"], rule["round_to"]) == ("protocol", 8, 5)


def test_a_recipient_sees_every_area_of_its_flows_and_no_other(
    csp_b_lsoas: dict[str, Any], essex_lsoa_counts: dict[str, int]
) -> None:
    assert {r["area_code"] for r in csp_b_lsoas["rows"]} == set(essex_lsoa_counts)


def test_a_recipient_sees_its_counts_suppressed_and_rounded(
    csp_b_lsoas: dict[str, Any], essex_lsoa_counts: dict[str, int]
) -> None:
    for row in csp_b_lsoas["rows"]:
        true = int(essex_lsoa_counts[row["area_code"]])
        # 1-7 always suppressed; larger cells rounded, or suppressed as well to protect the totals
        assert row["count"] is None if true < 8 else row["count"] in (None, (true + 2) // 5 * 5)


PUBLISHED = sum(count for _, _, count in FEEDS.values()) + LATE_HANTS[2]


def test_every_event_has_exactly_one_decision(after_expiry: Worker, hub_env: HubEnv) -> None:
    [(decisions, events)] = _query(hub_env, "SELECT count(*), count(DISTINCT event_id) FROM decision")
    assert decisions == events == PUBLISHED


def test_every_event_is_loaded_withheld_or_dead_lettered(after_expiry: Worker, hub_env: HubEnv) -> None:
    [(loaded_events,)] = _query(hub_env, "SELECT count(*) FROM event")
    [(withheld,)] = _query(hub_env, "SELECT count(*) FROM decision WHERE outcome = 'withheld'")
    [(dead,)] = _query(hub_env, "SELECT count(*) FROM dead_letter")
    assert loaded_events + withheld + dead == PUBLISHED


def test_expiring_a_protocol_withholds_new_flows(after_expiry: Worker, hub_env: HubEnv) -> None:
    [(late_withheld,)] = _query(
        hub_env, "SELECT count(*) FROM decision WHERE partner = 'hampshire-police' AND outcome = 'withheld'"
    )
    assert late_withheld == LATE_HANTS[2]


def test_expiring_a_protocol_loads_no_new_flows(after_expiry: Worker, hub_env: HubEnv) -> None:
    [(hants_loaded,)] = _query(hub_env, "SELECT count(*) FROM event WHERE partner = 'hampshire-police'")
    assert hants_loaded == FEEDS["hampshire-police"][2]


@pytest.fixture(scope="module")
def csp_a_wards_after_expiry(after_expiry: Worker, hub_env: HubEnv) -> dict[str, Any]:
    """CSP A's ward counts once hants-to-a has expired."""
    body: dict[str, Any] = (
        hub_env.api_client("csp-a", "analyst").get("/v1/counts", params={**COUNTS, "level": "ward"}).json()
    )
    return body


def test_an_expired_protocol_is_no_longer_cited(csp_a_wards_after_expiry: dict[str, Any]) -> None:
    # Views come from the protocols in force at query time.
    assert csp_a_wards_after_expiry["protocols"] == ["sussex-to-a@1#records"]


def test_an_expired_protocols_events_are_no_longer_seen(
    csp_a_wards_after_expiry: dict[str, Any], hub_env: HubEnv
) -> None:
    # CSP A no longer sees the Hampshire events.
    [(sussex_with_ward,)] = _query(
        hub_env, "SELECT count(*) FROM event WHERE partner = 'sussex-police' AND ward_code IS NOT NULL"
    )
    assert sum(r["count"] for r in csp_a_wards_after_expiry["rows"]) == sussex_with_ward


@dataclass(frozen=True)
class IgReports:
    """The IG endpoints asked once each, after CSP C was refused its counts and CSP A its flows."""

    refused: Response
    flows: list[dict[str, Any]]
    essex_flows: list[dict[str, Any]]
    withheld: list[dict[str, Any]]
    protocols: list[dict[str, Any]]
    csp_a_flows: Response
    access_log: list[dict[str, Any]]


@pytest.fixture(scope="module")
def ig_reports(after_expiry: Worker, hub_env: HubEnv) -> IgReports:
    refused = hub_env.api_client("csp-c", "analyst").get("/v1/counts", params=COUNTS)
    ig = hub_env.api_client("hub", "ig_lead")
    flows = ig.get("/v1/ig/flows").json()
    essex_flows = hub_env.api_client("essex-police", "ig_lead").get("/v1/ig/flows").json()
    withheld = ig.get("/v1/ig/withheld").json()
    protocols = ig.get("/v1/ig/protocols").json()
    csp_a_flows = hub_env.api_client("csp-a", "analyst").get("/v1/ig/flows")
    access_log = ig.get("/v1/ig/access-log", params={"limit": 1000}).json()
    return IgReports(refused, flows, essex_flows, withheld, protocols, csp_a_flows, access_log)


def test_a_recipient_without_a_clause_is_refused_counts_of_any_level(ig_reports: IgReports) -> None:
    assert ig_reports.refused.status_code == 403


def test_the_ig_flows_report_the_events_each_protocol_carried(ig_reports: IgReports) -> None:
    by_protocol: dict[str, int] = {}
    for flow in ig_reports.flows:
        by_protocol[flow["protocol"]] = by_protocol.get(flow["protocol"], 0) + flow["events"]
    # Per recipient: essex-to-b and essex-to-d both carried the same 400 Essex events.
    assert by_protocol == {"sussex-to-a@1": 300, "essex-to-b@1": 400, "essex-to-d@1": 400, "hants-to-a@1": 200}


def test_a_partners_ig_lead_sees_only_its_own_flows(ig_reports: IgReports) -> None:
    essex_ig = {(f["protocol"], f["partner"]) for f in ig_reports.essex_flows}
    assert essex_ig == {("essex-to-b@1", "essex-police"), ("essex-to-d@1", "essex-police")}


@pytest.mark.parametrize(
    ("partner", "events"),
    [("kent-police", 50), ("hampshire-police", 100)],
    ids=["no-protocol", "expired-protocol"],
)
def test_the_ig_withheld_report_counts_what_was_withheld(ig_reports: IgReports, partner: str, events: int) -> None:
    withheld = {(w["partner"], w["code"]): w["events"] for w in ig_reports.withheld}
    assert sum(n for (p, _), n in withheld.items() if p == partner) == events


def test_the_ig_register_shows_an_expired_protocol_out_of_force(ig_reports: IgReports) -> None:
    register = {p["label"]: p for p in ig_reports.protocols}
    assert register["hants-to-a@1"]["in_force"] is False


def test_an_analyst_is_refused_the_ig_reports(ig_reports: IgReports) -> None:
    assert ig_reports.csp_a_flows.status_code == 403


def test_the_ig_access_log_records_a_refusal(ig_reports: IgReports) -> None:
    assert any(entry["org"] == "csp-c" and entry["status"] == 403 for entry in ig_reports.access_log)


def test_the_ig_access_log_says_who_asked_what_under_which_protocols(ig_reports: IgReports) -> None:
    log = ig_reports.access_log
    assert all(set(entry) >= {"org", "role", "endpoint", "protocols", "rows", "status"} for entry in log)


@dataclass(frozen=True)
class Retention:
    """Retention run on the last day of the first retention, then the day after the last one; then Sussex
    re-published. What the tables held before and after."""

    events_before: int
    decisions_before: int
    on_last_day: dict[str, int]
    deleted: dict[str, int]
    events_after: list[tuple[Any, ...]]
    runs: list[tuple[Any, ...]]
    decisions_after: list[tuple[Any, ...]]
    events_after_republishing: list[tuple[Any, ...]]


@pytest.fixture(scope="module")
def retention(
    after_expiry: Worker, hub_env: HubEnv, shared_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> Retention:
    [(events_before,)] = _query(hub_env, "SELECT count(*) FROM event")
    [(decisions_before,)] = _query(hub_env, "SELECT count(*) FROM decision")
    [(first_expiry, kept_until)] = _query(hub_env, "SELECT min(retain_until), max(retain_until) FROM event")
    with session_scope(hub_env.engine) as session:
        on_last_day = run_retention(session, first_expiry)
    with session_scope(hub_env.engine) as session:
        deleted = run_retention(session, kept_until + timedelta(days=1))
    events_after = _query(hub_env, "SELECT count(*) FROM event")
    runs = _query(hub_env, "SELECT dataset, deleted FROM retention_run")
    decisions_after = _query(hub_env, "SELECT count(*) FROM decision")
    # Re-publish what retention deleted.
    source, first, count = FEEDS["sussex-police"]
    tmp = tmp_path_factory.mktemp("republish")
    _publish(hub_env, _extract(shared_data, tmp, source, first, count), "sussex-police")
    after_expiry.wait_until_loaded()
    republished = _query(hub_env, "SELECT count(*) FROM event")
    return Retention(
        events_before, decisions_before, on_last_day, deleted, events_after, runs, decisions_after, republished
    )


def test_retention_deletes_nothing_on_the_last_day(retention: Retention) -> None:
    assert retention.on_last_day == {}  # nothing is past retention on its last day


def test_retention_deletes_expired_events(retention: Retention) -> None:
    assert retention.deleted == {"police-uk-street": retention.events_before}


def test_retention_leaves_no_expired_event(retention: Retention) -> None:
    assert retention.events_after == [(0,)]


def test_retention_records_what_it_deleted(retention: Retention) -> None:
    assert retention.runs == [("police-uk-street", retention.events_before)]


def test_retention_leaves_the_decisions_alone(retention: Retention) -> None:
    assert retention.decisions_after == [(retention.decisions_before,)]


def test_the_decisions_are_append_only(retention: Retention, hub_env: HubEnv) -> None:
    with pytest.raises(DBAPIError, match="append-only"), hub_env.engine.begin() as conn:
        conn.execute(text("DELETE FROM decision"))


def test_republishing_what_retention_deleted_does_not_bring_it_back(retention: Retention) -> None:
    assert retention.events_after_republishing == [(0,)]
