"""The IG lead's console endpoints: a protocol's terms in plain words and the changes between two of its versions,
the register's "due for review or expiring" list and CSV, flows filtered by partner and recipient, the access log
filtered (organisation, role, path, status, days) and paged, retention runs and retractions; each only for the
protocols and organisations the caller may see.

Expectations are written from the packaged police-to-csp-analysts document (v1) and this module's own documents:
its v2 (a draft: narrower fields, district precision, a new DPIA reference) and two test protocols for
eastbourne-csp, one due for review in 30 days, one expiring in 60.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from deploy.protocol_files import packaged_protocols_dir
from tests.support.hub import HubEnv
from tests.support.protocol_files import protocol_document, with_packaged

pytestmark = pytest.mark.integration

TODAY = datetime.now(UTC).date()
V1 = (packaged_protocols_dir() / "police-to-csp-analysts.yaml").read_text(encoding="utf-8")
V2 = (
    V1.replace("version: 1", "version: 2")
    .replace("status: active", "status: draft")
    .replace("dpia_reference: HUB-DPIA-2026-002", "dpia_reference: HUB-DPIA-2026-017")
    .replace("reported_by, falls_within, last_outcome_category]", "reported_by, falls_within]")
    .replace("spatial_precision: ward", "spatial_precision: district")
)
BODY = """
data_owners: [{id: police-uk, name: Test owner, datasets: [police-uk-api]}]
recipients: [{id: eastbourne-csp, name: Eastbourne CSP, kind: csp}]
signatories: [{role: Chair, organisation: eastbourne-csp}]
clauses:
  - {id: counts, recipients: [eastbourne-csp], datasets: [police-uk-api], fields: [category, period],
     temporal_precision: month, output: aggregates_only}
"""


def _due(protocol_id: str, review_due: date, expires: date | None) -> str:
    doc = protocol_document(protocol_id, f"Test {protocol_id}", ["police-uk-api"], BODY)
    doc = doc.replace("review_due: 2030-01-01", f"review_due: {review_due.isoformat()}")
    return doc.replace("retention:", f"expires: {expires.isoformat()}\nretention:") if expires else doc


@pytest.fixture(scope="module")
def protocol_paths(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return with_packaged(
        tmp_path_factory,
        {
            "police-to-csp-analysts-v2.yaml": V2,
            "review-soon.yaml": _due("review-soon", TODAY + timedelta(days=30), None),
            "expiring-soon.yaml": _due("expiring-soon", date(2030, 1, 1), TODAY + timedelta(days=60)),
        },
    )


# The register, a protocol's terms and its diff.


def test_the_register_lists_versions_with_signatories_and_dpia_and_those_due_first(hub_env: HubEnv) -> None:
    client = hub_env.api_client("eastbourne-csp", "ig_lead")
    register = client.get("/v1/ig/protocols").json()
    v1 = next(p for p in register if p["label"] == "police-to-csp-analysts@1")
    assert (v1["id"], v1["version"], v1["dpia_reference"]) == ("police-to-csp-analysts", 1, "HUB-DPIA-2026-002")
    assert "Chair of the Community Safety Partnership, eastbourne-csp" in v1["signatories"]
    assert len(v1["signatories"]) == 6
    due = client.get("/v1/ig/protocols", params={"due_within": 90}).json()
    assert [p["label"] for p in due] == ["review-soon@1", "expiring-soon@1"]
    assert [p["label"] for p in client.get("/v1/ig/protocols", params={"due_within": 45}).json()] == ["review-soon@1"]
    # essex-csp is party to neither test protocol
    assert hub_env.api_client("essex-csp", "ig_lead").get("/v1/ig/protocols", params={"due_within": 90}).json() == []


def test_the_register_as_csv_has_one_row_a_version(hub_env: HubEnv) -> None:
    client = hub_env.api_client("eastbourne-csp", "ig_lead")
    listed = client.get("/v1/ig/protocols").json()
    response = client.get("/v1/ig/protocols", params={"format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["label"] for r in rows] == [p["label"] for p in listed]
    v2 = next(r for r in rows if r["label"] == "police-to-csp-analysts@2")
    assert (v2["status"], v2["dpia_reference"], v2["clauses"]) == ("draft", "HUB-DPIA-2026-017", "csp-ward-records")
    assert v2["data_owners"] == "essex-police; police-uk; sussex-police"


def test_a_protocols_clauses_in_plain_words(hub_env: HubEnv) -> None:
    client = hub_env.api_client("eastbourne-csp", "ig_lead")
    response = client.get("/v1/ig/protocols/police-to-csp-analysts")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["versions"] == [1, 2] and body["protocol"]["label"] == "police-to-csp-analysts@2"
    assert body["retention"] == "24 months"
    [clause] = body["terms"]
    assert clause["id"] == "csp-ward-records"
    assert clause["recipients"][1] == "Eastbourne Community Safety Partnership (eastbourne-csp)"
    assert clause["fields"] == ["category", "period", "location", "reported_by", "falls_within"]
    assert clause["spatial_precision"] == "no finer than district"
    assert clause["temporal_precision"] == "no finer than month"
    assert clause["output"] == "record by record"
    assert clause["disclosure"] == "no suppression"  # min_cell_count 1, round_to 1
    assert clause["retention"] == "kept for 24 months after receipt"
    assert clause["scope"] == "only each recipient's own area"
    first = client.get("/v1/ig/protocols/police-to-csp-analysts", params={"version": 1}).json()
    assert first["terms"][0]["spatial_precision"] == "no finer than ward"
    assert "last_outcome_category" in first["terms"][0]["fields"]


def test_the_diff_between_two_versions_in_words(hub_env: HubEnv) -> None:
    client = hub_env.api_client("eastbourne-csp", "ig_lead")
    response = client.get("/v1/ig/protocols/police-to-csp-analysts/diff", params={"from": 1, "to": 2})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["id"], body["from_version"], body["to_version"]) == ("police-to-csp-analysts", 1, 2)
    assert [c["words"] for c in body["changes"]] == [
        "version: 1 -> 2",
        "status: active -> draft",
        "dpia_reference: HUB-DPIA-2026-002 -> HUB-DPIA-2026-017",
        "clause csp-ward-records: fields removed: last_outcome_category",
        "clause csp-ward-records: spatial_precision: ward -> district",
    ]
    removed = body["changes"][3]
    assert (removed["kind"], removed["what"], removed["clause"], removed["before"], removed["after"]) == (
        "removed",
        "fields",
        "csp-ward-records",
        "last_outcome_category",
        None,
    )
    back = client.get("/v1/ig/protocols/police-to-csp-analysts/diff", params={"from": 2, "to": 1}).json()
    assert "clause csp-ward-records: fields added: last_outcome_category" in [c["words"] for c in back["changes"]]


def test_a_protocol_or_version_the_caller_is_not_party_to_is_not_found(hub_env: HubEnv) -> None:
    council = hub_env.api_client("eastbourne-council", "ig_lead")
    for path in ("/v1/ig/protocols/police-to-csp-analysts", "/v1/ig/protocols/no-such-protocol"):
        response = council.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "party to" in response.json()["detail"]
    assert council.get("/v1/ig/protocols/police-to-csp-analysts/diff", params={"from": 1, "to": 2}).status_code == 404
    lead = hub_env.api_client("eastbourne-csp", "ig_lead")
    missing = lead.get("/v1/ig/protocols/police-to-csp-analysts/diff", params={"from": 1, "to": 3})
    assert missing.status_code == 404 and "to: protocol police-to-csp-analysts has no version 3" in missing.text
    # the hub operator sees every protocol
    hub = hub_env.api_client("hub", "ig_lead")
    assert hub.get("/v1/ig/protocols/police-uk-api-to-csp").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/v1/ig/protocols/..%2F..%2Fetc",
        "/v1/ig/protocols/Police-To-CSP",
        "/v1/ig/protocols/police-to-csp-analysts/diff?from=1",
        "/v1/ig/protocols/police-to-csp-analysts/diff?from=0&to=1",
        "/v1/ig/protocols/police-to-csp-analysts/diff?from=x&to=1",
        "/v1/ig/protocols/police-to-csp-analysts?version=99999999999999999999",
        "/v1/ig/protocols?due_within=-1",
    ],
)
def test_bad_protocol_requests_are_refused_clearly(hub_env: HubEnv, path: str) -> None:
    response = hub_env.api_client("eastbourne-csp", "ig_lead").get(path)
    assert 400 <= response.status_code < 500, (path, response.status_code)
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "Traceback" not in response.text


def test_other_roles_may_not_read_a_protocols_terms(hub_env: HubEnv) -> None:
    for role in ("analyst", "partner"):
        client = hub_env.api_client("eastbourne-csp", role)
        assert client.get("/v1/ig/protocols/police-to-csp-analysts").status_code == 403
        assert client.get("/v1/ig/protocols/police-to-csp-analysts/diff?from=1&to=2").status_code == 403
    assert hub_env.client().get("/v1/ig/retention-runs").status_code == 403


# Flows: released events, filtered.


def _decide(hub_env: HubEnv, partner: str, dataset: str, month: date, refs: list[str], events: int) -> None:
    with hub_env.engine.begin() as conn:
        for _ in range(events):
            conn.execute(
                text(
                    "INSERT INTO decision (event_id, content_hash, dataset, partner, period_month, outcome, protocols,"
                    " fields_dropped, spatial_precision) VALUES (:e, 'h', :d, :p, :m, 'released', :r, '{}', '{}')"
                ),
                {"e": uuid.uuid4(), "d": dataset, "p": partner, "m": month, "r": refs},
            )


def test_flows_filter_by_partner_and_recipient_and_come_as_csv(hub_env: HubEnv) -> None:
    ref = "police-to-csp-analysts@1#csp-ward-records"
    _decide(hub_env, "sussex-police", "police-uk-street", date(2025, 3, 1), [ref], 3)
    _decide(hub_env, "essex-police", "police-uk-street", date(2025, 3, 1), [ref], 2)
    hub = hub_env.api_client("hub", "ig_lead")
    window = {"from": "2025-03-01", "to": "2025-03-31"}
    every = hub.get("/v1/ig/flows", params=window).json()
    assert {(f["partner"], f["recipient"], f["events"]) for f in every} == {
        (partner, recipient, n)
        for partner, n in (("sussex-police", 3), ("essex-police", 2))
        for recipient in ("east-sussex-csp", "eastbourne-csp", "essex-csp")
    }
    sussex = hub.get("/v1/ig/flows", params={**window, "partner": "sussex-police", "recipient": "essex-csp"}).json()
    assert [(f["partner"], f["recipient"], f["period"], f["events"]) for f in sussex] == [
        ("sussex-police", "essex-csp", "2025-03", 3)
    ]
    response = hub.get("/v1/ig/flows", params={**window, "recipient": "eastbourne-csp", "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert sorted((r["partner"], r["events"]) for r in rows) == [("essex-police", "2"), ("sussex-police", "3")]
    assert hub.get("/v1/ig/flows", params={"partner": "Not A Slug"}).status_code == 422


# The access log.


def _log(client: Any, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/v1/ig/access-log", params=params)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


def test_the_access_log_filters_by_org_role_path_status_and_day(hub_env: HubEnv) -> None:
    hub_env.api_client("eastbourne-csp", "analyst").get("/v1/ig/retention")  # refused: 403
    lead = hub_env.api_client("eastbourne-csp", "ig_lead")
    lead.get("/v1/ig/retention")
    hub_env.api_client("essex-csp", "ig_lead").get("/v1/ig/retention")
    mine = _log(lead, path="/v1/ig/retention")
    assert [(r["org"], r["role"], r["status"]) for r in mine] == [
        ("eastbourne-csp", "ig_lead", 200),
        ("eastbourne-csp", "analyst", 403),
    ]
    assert [r["role"] for r in _log(lead, path="/v1/ig/retention", role="analyst")] == ["analyst"]
    assert [r["status"] for r in _log(lead, path="/v1/ig/ret", status=403)] == [403]
    assert _log(lead, path="/v1/ig/retention", **{"from": (TODAY + timedelta(days=1)).isoformat()}) == []
    assert _log(lead, path="/v1/ig/retention", to=(TODAY - timedelta(days=1)).isoformat()) == []
    assert len(_log(lead, path="/v1/ig/retention", **{"from": TODAY.isoformat(), "to": TODAY.isoformat()})) == 2
    hub = hub_env.api_client("hub", "ig_lead")
    assert [r["org"] for r in _log(hub, path="/v1/ig/retention", org="essex-csp")] == ["essex-csp"]
    assert {r["org"] for r in _log(hub, path="/v1/ig/retention")} >= {"eastbourne-csp", "essex-csp"}


def test_an_ig_lead_may_not_read_another_organisations_access_log(hub_env: HubEnv) -> None:
    lead = hub_env.api_client("eastbourne-csp", "ig_lead")
    response = lead.get("/v1/ig/access-log", params={"org": "essex-csp"})
    assert response.status_code == 403 and "its own organisation" in response.json()["detail"]
    assert {r["org"] for r in _log(lead)} == {"eastbourne-csp"}


def test_the_access_log_pages_and_comes_as_csv(hub_env: HubEnv) -> None:
    lead = hub_env.api_client("eastbourne-csp", "ig_lead")
    for _ in range(3):
        lead.get("/v1/ig/protocols")
    every = _log(lead, path="/v1/ig/protocols", to=TODAY.isoformat())
    assert len(every) >= 3
    assert _log(lead, path="/v1/ig/protocols", limit=2, offset=1) == every[1:3]
    response = lead.get("/v1/ig/access-log", params={"path": "/v1/ig/protocols", "format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["org"], r["endpoint"], r["status"], r["rows"]) for r in rows] == [
        (r["org"], r["endpoint"], str(r["status"]), str(r["rows"])) for r in every
    ]
    assert rows[0]["protocols"] == " ".join(every[0]["protocols"])


@pytest.mark.parametrize(
    "params",
    [
        {"status": "99"},
        {"status": "abc"},
        {"path": "no-slash"},
        {"path": "/" + "a" * 300},
        {"role": "ig lead'--"},
        {"org": "%"},
        {"limit": "100000"},
        {"from": "1066-10-14"},
    ],
)
def test_bad_access_log_filters_are_refused_clearly(hub_env: HubEnv, params: dict[str, str]) -> None:
    response = hub_env.api_client("hub", "ig_lead").get("/v1/ig/access-log", params=params)
    assert 400 <= response.status_code < 500, (params, response.status_code)
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_path_filter_is_a_literal_prefix_not_a_pattern(hub_env: HubEnv) -> None:
    lead = hub_env.api_client("eastbourne-csp", "ig_lead")
    lead.get("/v1/ig/retention")
    assert _log(lead, path="/v1/ig/%") == []
    assert _log(lead, path="/v1/ig/_etention") == []


def test_the_access_log_indexes_exist(hub_env: HubEnv) -> None:
    found = {r[0] for r in hub_env.query("SELECT indexname FROM pg_indexes WHERE tablename = 'access_log'")}
    assert {"ix_access_log_org_id", "ix_access_log_at"} <= found


# Retention runs and retractions.


def test_retention_runs_of_the_datasets_the_caller_is_party_to(hub_env: HubEnv) -> None:
    with hub_env.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO retention_run (today, dataset, deleted, field) VALUES "
                "('2026-10-01', 'police-uk-street', 7, NULL), ('2026-10-01', 'police-uk-street', 4, 'location:ward'),"
                "('2026-10-02', 'police-uk-api', 9, NULL)"
            )
        )
    window = {"from": "2026-10-01", "to": "2026-10-31"}
    sussex = hub_env.api_client("sussex-police", "ig_lead").get("/v1/ig/retention-runs", params=window).json()
    assert [(r["today"], r["dataset"], r["field"], r["deleted"]) for r in sussex] == [
        ("2026-10-01", "police-uk-street", "location:ward", 4),
        ("2026-10-01", "police-uk-street", None, 7),
    ]
    hub = hub_env.api_client("hub", "ig_lead").get("/v1/ig/retention-runs", params=window).json()
    assert [r["dataset"] for r in hub] == ["police-uk-api", "police-uk-street", "police-uk-street"]
    assert hub_env.api_client("hub", "ig_lead").get(
        "/v1/ig/retention-runs", params={"from": "2026-10-02", "to": "2026-10-02", "format": "csv"}
    ).text.splitlines() == ["run_at,today,dataset,field,deleted", hub_csv_line(hub[0])]


def hub_csv_line(row: dict[str, Any]) -> str:
    run_at = datetime.fromisoformat(row["run_at"])
    return f"{run_at},{row['today']},{row['dataset']},,{row['deleted']}"


def test_retractions_by_day_dataset_and_partner_for_the_partner_itself(hub_env: HubEnv) -> None:
    with hub_env.engine.begin() as conn:
        for i, (partner, removed) in enumerate(
            (("sussex-police", True), ("sussex-police", False), ("essex-police", True))
        ):
            conn.execute(
                text(
                    "INSERT INTO retraction (event_id, dataset, partner, source_topic, source_partition, source_offset,"
                    " removed) VALUES (:e, 'police-uk-street', :p, 'test.retractions', 0, :o, :r)"
                ),
                {"e": uuid.uuid4(), "p": partner, "o": i, "r": removed},
            )
    today = {"from": TODAY.isoformat(), "to": TODAY.isoformat()}
    sussex = hub_env.api_client("sussex-police", "ig_lead").get("/v1/ig/retractions", params=today).json()
    assert sussex == [
        {
            "day": TODAY.isoformat(),
            "dataset": "police-uk-street",
            "partner": "sussex-police",
            "retractions": 2,
            "removed": 1,
        }
    ]
    every = hub_env.api_client("hub", "ig_lead").get("/v1/ig/retractions", params=today).json()
    assert [(r["partner"], r["retractions"], r["removed"]) for r in every] == [
        ("essex-police", 1, 1),
        ("sussex-police", 2, 1),
    ]
    assert hub_env.api_client("eastbourne-csp", "ig_lead").get("/v1/ig/retractions", params=today).json() == []


def test_withheld_events_of_one_partner_for_the_hub_and_only_its_own_for_an_organisation(hub_env: HubEnv) -> None:
    with hub_env.engine.begin() as conn:
        for partner, n in (("sussex-police", 2), ("essex-police", 1)):
            for _ in range(n):
                conn.execute(
                    text(
                        "INSERT INTO decision (event_id, content_hash, dataset, partner, period_month, outcome, code,"
                        " protocols, fields_dropped, spatial_precision)"
                        " VALUES (:e, 'h', 'police-uk-street', :p, '2025-05-01', 'withheld', 'no_grant', '{}', '{}',"
                        " '{}')"
                    ),
                    {"e": uuid.uuid4(), "p": partner},
                )
    may = {"from": "2025-05-01", "to": "2025-05-31"}
    hub = hub_env.api_client("hub", "ig_lead")
    assert [(w["partner"], w["events"]) for w in hub.get("/v1/ig/withheld", params=may).json()] == [
        ("essex-police", 1),
        ("sussex-police", 2),
    ]
    one = hub.get("/v1/ig/withheld", params={**may, "partner": "essex-police"}).json()
    assert [(w["code"], w["partner"], w["period"], w["events"]) for w in one] == [
        ("no_grant", "essex-police", "2025-05", 1)
    ]
    sussex = hub_env.api_client("sussex-police", "ig_lead")
    assert [w["partner"] for w in sussex.get("/v1/ig/withheld", params=may).json()] == ["sussex-police"]
    assert sussex.get("/v1/ig/withheld", params={**may, "partner": "essex-police"}).status_code == 403
    rows = list(csv.DictReader(io.StringIO(hub.get("/v1/ig/withheld", params={**may, "format": "csv"}).text)))
    assert [(r["partner"], r["events"]) for r in rows] == [("essex-police", "1"), ("sussex-police", "2")]


def _plan_indexes(hub_env: HubEnv, where: str) -> set[str]:
    sql = (
        "EXPLAIN (FORMAT JSON) SELECT at, org, role, endpoint, query, protocols, rows, status FROM access_log "
        f"WHERE {where} ORDER BY id DESC LIMIT 100"
    )
    [(plan,)] = hub_env.query(sql)
    found: set[str] = set()
    nodes = [plan[0]["Plan"]]
    while nodes:
        node = nodes.pop()
        if "Index Name" in node:
            found.add(node["Index Name"])
        nodes.extend(node.get("Plans", []))
    return found


def test_one_organisations_log_and_an_old_day_are_read_by_index(hub_env: HubEnv) -> None:
    with hub_env.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO access_log (at, org, role, endpoint, query, protocols, rows, status) "
                "SELECT now() - i * interval '1 minute', 'plan-org-' || (i % 200), 'analyst', '/v1/counts', '{}', "
                "'{}', 0, 200 FROM generate_series(1, 50000) AS i"
            )
        )
    with hub_env.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE access_log"))
    assert "ix_access_log_org_id" in _plan_indexes(hub_env, "org = 'plan-org-7'")
    old = "at >= now() - interval '30 days' AND at < now() - interval '29 days'"
    assert "ix_access_log_at" in _plan_indexes(hub_env, old)
