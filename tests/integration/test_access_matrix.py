"""Who sees what: every organisation x role (and no key) against every analytic endpoint, under the packaged
protocols plus one test protocol that sets no disclosure rule of its own (so the NHS default applies).

The expectations are read here from the protocol YAML files themselves (which clauses name which recipient for
which dataset), not from the hub's register: no 200 answer may cite a clause that does not name the caller, an
organisation without such a clause must be refused, and the combinations the protocols clearly allow must work.
Under the default rule no figure of 1-7 may appear anywhere in any answer, and the margin attack on the counts
table recovers nothing.
"""

from __future__ import annotations

import csv
import io
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import text

from deploy.protocol_files import packaged_protocols_dir
from tests.support.disclosure_attack import margin_attack
from tests.support.hub import HubEnv, Worker, run_all
from tests.support.open_data import EASTBOURNE_CODEPOINT, EASTBOURNE_STREET
from tests.support.reference_data import ALL_LOOKUPS, load_reference

pytestmark = pytest.mark.integration

KEYS = {"HUB_LINKAGE_KEY_PERSON": "p" * 48, "HUB_LINKAGE_KEY_RECORD_IDS": "r" * 48}
EASTBOURNE = "E07000061"
# The NHS rule, stated: since issue 13 an aggregates-only clause over personal data without a block would get the
# cell key method by default (tests/unit/sharing_protocols/test_clause_rule.py, tests/integration/test_cell_key.py),
# and this module tests the threshold rule, its secondary suppression and the margin attack.
DEFAULT_RULE_PROTOCOL = """
id: default-rule-test
version: 1
title: Test protocol under the NHS rule
status: active
valid_from: 2019-01-01
review_due: 2030-01-01
dpia_reference: TEST-DPIA
purposes: [Testing the default disclosure rule]
legal_gateways: [{ref: cda-1998-s115}]
datasets: [police-uk-street, police-records, marac-cases, probation-iom]
retention: {months: 120}
data_owners:
  - {id: sussex-police, name: Sussex Police, datasets: [police-uk-street, police-records]}
  - {id: east-sussex-marac, name: East Sussex MARAC, datasets: [marac-cases]}
  - {id: kss-probation, name: KSS Probation, datasets: [probation-iom]}
recipients: [{id: csp-default, name: Test CSP, kind: csp}]
signatories: [{role: SIRO, organisation: sussex-police}]
clauses:
  - {id: street, recipients: [csp-default], datasets: [police-uk-street], fields: [category, period, location],
     spatial_precision: ward, temporal_precision: month, output: aggregates_only,
     disclosure: {min_cell_count: 8, round_to: 5}}
  - {id: records, recipients: [csp-default], datasets: [police-records],
     fields: [category, period, location, domestic_abuse, victim_pseudonym],
     spatial_precision: ward, temporal_precision: day, output: aggregates_only, pseudonym_linkage: true,
     disclosure: {min_cell_count: 8, round_to: 5}}
  - {id: marac, recipients: [csp-default], datasets: [marac-cases],
     fields: [category, period, location, marac_area, victim_pseudonym, perpetrator_pseudonym, information_only],
     spatial_precision: district, temporal_precision: day, output: aggregates_only, pseudonym_linkage: true,
     disclosure: {min_cell_count: 8, round_to: 5}}
  - {id: cohorts, recipients: [csp-default], datasets: [probation-iom],
     fields: [category, period, location, offender_pseudonym, reoffended, predicted_reoffending_rate],
     spatial_precision: district, temporal_precision: month, output: aggregates_only, pseudonym_linkage: true,
     disclosure: {min_cell_count: 8, round_to: 5}}
"""
RECORDS = {"from": "2023-01", "to": "2024-12"}


@dataclass(frozen=True)
class Case:
    """One analytic request and the datasets it reads."""

    name: str
    path: str
    params: dict[str, Any]
    datasets: tuple[str, ...]


STREET = {"dataset": "police-uk-street", "from": "2019-01", "to": "2019-01"}
CASES = (
    Case("counts-ward", "/v1/counts", {**STREET, "level": "ward"}, ("police-uk-street",)),
    Case("counts-lsoa", "/v1/counts", {**STREET, "level": "lsoa"}, ("police-uk-street",)),
    Case("counts-lad", "/v1/counts", {"dataset": "police-records", "level": "lad", **RECORDS}, ("police-records",)),
    Case(
        "rates",
        "/v1/rates",
        {"dataset": "police-records", "level": "lad", "period": "quarter", **RECORDS},
        ("police-records",),
    ),
    Case(
        "trends",
        "/v1/trends",
        {"dataset": "police-records", "level": "lad", "period": "quarter", **RECORDS},
        ("police-records",),
    ),
    Case("repeats-da", "/v1/repeats", {"measure": "domestic_abuse", "level": "lad", **RECORDS}, ("police-records",)),
    Case("repeats-marac", "/v1/repeats", {"measure": "marac", **RECORDS}, ("marac-cases",)),
    Case("cohorts", "/v1/cohorts", {"level": "lad", **RECORDS}, ("probation-iom",)),
    Case("hotspots", "/v1/hotspots", {**STREET, "area": EASTBOURNE, "area_level": "lad"}, ("police-uk-street",)),
)
NAMES = {case.name for case in CASES}
INDICATOR_DATASETS = ("police-uk-street", "police-records", "council-asb")  # the packaged indicators' datasets
# What the protocols plainly allow (read from the YAML by hand): these must answer 200.
MUST_WORK = {
    "eastbourne-csp": NAMES - {"counts-lsoa"},
    "essex-csp": {"counts-ward"},  # not hotspots in Eastbourne: its clause is scoped to Essex (403)
    "csp-default": NAMES - {"counts-lsoa"},
    "public": {"counts-lsoa"},
}
ORGS = ("eastbourne-csp", "essex-csp", "csp-default", "sussex-police", "hub", "stranger-org")
ROLES = ("analyst", "ig_lead", "partner", "public")
CALLERS: tuple[tuple[str | None, str | None], ...] = (*((o, r) for o in ORGS for r in ROLES), (None, None))


def _in_force(protocol: dict[str, Any], today: date) -> bool:
    expires = protocol.get("expires")
    return (
        protocol["status"] == "active"
        and protocol["valid_from"] <= today <= protocol["review_due"]
        and (expires is None or today <= expires)
    )


def clause_refs(directories: list[Path], recipient: str, datasets: tuple[str, ...]) -> set[str]:
    """Refs of the in-force clauses naming `recipient` for any of `datasets`, read from the YAML files."""
    refs = set()
    today = date.today()
    for directory in directories:
        for path in sorted(directory.glob("*.yaml")):
            protocol = yaml.safe_load(path.read_text(encoding="utf-8"))
            if not _in_force(protocol, today):
                continue
            for clause in protocol["clauses"]:
                clause_sets = clause["datasets"] if isinstance(clause["datasets"], list) else [clause["datasets"]]
                if recipient in clause["recipients"] and set(clause_sets) & set(datasets):
                    refs.add(f"{protocol['id']}@{protocol['version']}#{clause['id']}")
    return refs


@pytest.fixture(scope="module")
def protocol_dirs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    extra = tmp_path_factory.mktemp("protocols")
    (extra / "default-rule-test.yaml").write_text(DEFAULT_RULE_PROTOCOL, encoding="utf-8")
    return [packaged_protocols_dir(), extra]


@pytest.fixture(scope="module")
def protocol_paths(protocol_dirs: list[Path]) -> list[Path]:
    return protocol_dirs


@pytest.fixture(scope="module")
def loaded(hub_env: HubEnv, shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    load_reference(
        hub_env.database_url, lookups=ALL_LOOKUPS, postcodes=EASTBOURNE_CODEPOINT, population=True, data=shared_data
    )
    tmp = tmp_path_factory.mktemp("matrix")
    worker = Worker(hub_env, tmp / "worker.log")  # after the lookups and postcodes: it reads them at start
    env = {**os.environ, **hub_env.env, **KEYS}
    cli = [sys.executable, "-m", "deploy.cli"]
    months = ["--district", EASTBOURNE, "--start", "2023-01", "--months", "24", "--seed", "11"]
    feeds = {"police-records": 1500, "marac-cases": 300, "probation-iom": 300}
    run_all([[*cli, "generate", f, str(tmp / f"{f}.csv"), "--rows", str(n), *months] for f, n in feeds.items()], env)
    street = shared_data / EASTBOURNE_STREET
    run_all(
        [[*cli, "publish", f, str(tmp / f"{f}.csv")] for f in feeds]
        + [[*cli, "publish", "police-uk-street", str(street)]],
        env,
    )
    worker.wait_until_loaded()
    yield worker
    worker.stop()


def _client(hub_env: HubEnv, org: str | None, role: str | None) -> TestClient:
    return hub_env.client() if org is None or role is None else hub_env.api_client(org, role)


def _who(org: str | None, role: str | None) -> str:
    return "public" if role in (None, "public") else str(org)


Caller = tuple[str | None, str | None]


@pytest.fixture(scope="module")
def clients(loaded: Worker, hub_env: HubEnv) -> dict[Caller, TestClient]:
    """One API client per caller (a real key for each organisation and role; none for the public)."""
    return {(org, role): _client(hub_env, org, role) for org, role in CALLERS}


@pytest.fixture(scope="module")
def analytic(clients: dict[Caller, TestClient]) -> dict[tuple[Caller, str], Response]:
    """Every caller's answer to every analytic request, asked once for the module."""
    return {
        (caller, case.name): client.get(case.path, params=case.params)
        for caller, client in clients.items()
        for case in CASES
    }


def _where(caller: Caller, case: Case, response: Response) -> str:
    return f"{caller[0]}/{caller[1]} {case.name}: {response.status_code} {response.text[:300]}"


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_partners_are_refused_every_analytic_endpoint(analytic: dict[tuple[Caller, str], Response], case: Case) -> None:
    for caller in CALLERS:
        response = analytic[caller, case.name]
        if caller[1] == "partner":
            assert response.status_code == 403, _where(caller, case, response)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_callers_without_a_clause_for_the_dataset_are_refused(
    analytic: dict[tuple[Caller, str], Response], protocol_dirs: list[Path], case: Case
) -> None:
    for caller in CALLERS:
        response = analytic[caller, case.name]
        if not clause_refs(protocol_dirs, _who(*caller), case.datasets):
            assert response.status_code == 403, _where(caller, case, response)


def _covered(protocol_dirs: list[Path], caller: Caller, case: Case) -> bool:
    """A caller other than a partner with a clause for the case's datasets."""
    return caller[1] != "partner" and bool(clause_refs(protocol_dirs, _who(*caller), case.datasets))


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_callers_with_a_clause_are_answered_or_refused(
    analytic: dict[tuple[Caller, str], Response], protocol_dirs: list[Path], case: Case
) -> None:
    for caller in CALLERS:
        response = analytic[caller, case.name]
        if _covered(protocol_dirs, caller, case):
            assert response.status_code in (200, 403), _where(caller, case, response)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_answers_cite_only_clauses_naming_the_caller(
    analytic: dict[tuple[Caller, str], Response], protocol_dirs: list[Path], case: Case
) -> None:
    for caller in CALLERS:
        response = analytic[caller, case.name]
        if _covered(protocol_dirs, caller, case) and response.status_code == 200:
            cited = set(response.json()["protocols"])
            allowed = clause_refs(protocol_dirs, _who(*caller), case.datasets)
            assert cited and cited <= allowed, _where(caller, case, response)


@pytest.mark.parametrize("who", sorted(MUST_WORK))
def test_what_the_protocols_plainly_allow_is_answered(
    analytic: dict[tuple[Caller, str], Response], protocol_dirs: list[Path], who: str
) -> None:
    seen_ok = {
        case.name
        for caller in CALLERS
        for case in CASES
        if _who(*caller) == who
        and _covered(protocol_dirs, caller, case)
        and analytic[caller, case.name].status_code == 200
    }
    cases = MUST_WORK[who]
    assert cases <= seen_ok, f"{who} was refused {sorted(cases - seen_ok)}"


@pytest.fixture(scope="module")
def other(clients: dict[Caller, TestClient]) -> dict[tuple[Caller, str], Response]:
    """Every caller's answer to the other endpoints (the scorecard not asked of partners), asked once."""
    answers: dict[tuple[Caller, str], Response] = {}
    public_counts = {"dataset": "police-uk-street", "level": "lsoa", **RECORDS}
    for caller, client in clients.items():
        answers[caller, "indicators"] = client.get("/v1/indicators")
        answers[caller, "flows"] = client.get("/v1/ig/flows")
        answers[caller, "releases"] = client.get("/v1/ig/releases")
        answers[caller, "dq"] = client.get("/v1/dq")
        answers[caller, "partner-flows"] = client.get("/v1/partner/flows")
        answers[caller, "partner-settings"] = client.get("/v1/partner/settings")
        answers[caller, "public"] = client.get("/v1/public/counts", params=public_counts)
        answers[caller, "collections"] = client.get("/collections")
        if caller[1] != "partner":
            answers[caller, "scorecard"] = client.get("/v1/scorecard", params={"csp": "E22000295"})
    return answers


def _status(caller: Caller) -> dict[str, int]:
    """What each other endpoint answers `caller` (org, role): by key, by role."""
    who, role = _who(*caller), caller[1]
    return {
        "indicators": 401 if who == "public" else 200,
        "flows": 200 if role == "ig_lead" else 403,
        "releases": 200 if role == "ig_lead" else 403,
        "dq": 200 if role in ("ig_lead", "partner") else 403,
        "partner-flows": 200 if role == "partner" else 403,
        "partner-settings": 200 if role == "partner" else 403,
        "public": 200,
        "collections": 403 if role == "partner" else 200,
        "scorecard": 200,
    }


@pytest.mark.parametrize(
    "endpoint",
    [
        "indicators",
        "flows",
        "releases",
        "dq",
        "partner-flows",
        "partner-settings",
        "public",
        "collections",
        "scorecard",
    ],
)
def test_other_endpoints_answer_by_role(other: dict[tuple[Caller, str], Response], endpoint: str) -> None:
    for caller in CALLERS:
        if (caller, endpoint) in other:
            assert other[caller, endpoint].status_code == _status(caller)[endpoint], f"{caller[0]}/{caller[1]}"


def test_an_ig_lead_sees_the_releases_of_its_own_organisation_and_the_operator_any(
    other: dict[tuple[Caller, str], Response],
    clients: dict[Caller, TestClient],
    analytic: dict[tuple[Caller, str], Response],
) -> None:
    assert analytic[("csp-default", "analyst"), "counts-ward"].status_code == 200
    for caller in CALLERS:
        if caller[1] == "ig_lead":
            orgs = {row["org"] for row in other[caller, "releases"].json()["summary"]}
            assert orgs <= {caller[0]} or caller[0] == "hub", f"{caller[0]} sees releases to {orgs}"
    asked = {"org": "csp-default"}
    assert clients["eastbourne-csp", "ig_lead"].get("/v1/ig/releases", params=asked).status_code == 403
    assert clients["eastbourne-csp", "analyst"].get("/v1/ig/releases", params=asked).status_code == 403
    operator = clients["hub", "ig_lead"].get("/v1/ig/releases", params=asked)
    assert operator.status_code == 200, operator.text
    # csp-default's analyst asked /v1/counts (the analytic requests, made before this): its figures are listed
    assert {row["org"] for row in operator.json()["summary"]} == {"csp-default"}


def test_public_counts_cite_only_public_clauses(
    other: dict[tuple[Caller, str], Response], protocol_dirs: list[Path]
) -> None:
    allowed = clause_refs(protocol_dirs, "public", ("police-uk-street",))
    for caller in CALLERS:
        assert set(other[caller, "public"].json()["protocols"]) <= allowed, f"{caller[0]}/{caller[1]}"


def test_collections_listed_only_for_datasets_with_a_clause_naming_the_caller(
    other: dict[tuple[Caller, str], Response], protocol_dirs: list[Path]
) -> None:
    for caller in CALLERS:
        if caller[1] == "partner":
            continue
        for collection in other[caller, "collections"].json()["collections"]:
            dataset = collection["id"].rsplit("-", 2)[0]
            where = f"{caller[0]}/{caller[1]} sees collection {collection['id']}"
            assert clause_refs(protocol_dirs, _who(*caller), (dataset,)), where


def test_scorecard_rows_cite_only_clauses_naming_the_caller(
    other: dict[tuple[Caller, str], Response], protocol_dirs: list[Path]
) -> None:
    for caller in CALLERS:
        if caller[1] == "partner":
            continue
        allowed = clause_refs(protocol_dirs, _who(*caller), INDICATOR_DATASETS)
        for row in other[caller, "scorecard"].json()["rows"]:
            assert set(row["protocols"]) <= allowed, f"{caller[0]}/{caller[1]}"


# Integer fields that are not counts of events or people (changes are differences of two released counts).
NOT_COUNTS = {
    "min_cell_count",
    "round_to",
    "year",
    "per",
    "suppressed",
    "gi_bin",
    "numberMatched",
    "numberReturned",
    "absolute_change",
    "change",
    "population",
    "population_year",
}


def _small_counts(value: Any, path: str = "") -> list[str]:
    """Paths of integers 1..7 in a JSON value, outside the fields that are not counts."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in NOT_COUNTS:
                found += _small_counts(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _small_counts(item, f"{path}[{i}]")
    elif isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 7:
        found.append(path)
    return found


def _default_rule_requests() -> list[tuple[Case, dict[str, str]]]:
    """Every analytic request of the default-rule recipient: plain, by category (where offered), and as CSV."""
    return [
        (case, extra)
        for case in CASES
        for extra in ({}, {"by": "category"}, {"format": "csv"})
        if not (extra.get("by") and case.path not in ("/v1/counts", "/v1/rates", "/v1/trends"))
    ]


@pytest.fixture(scope="module")
def default_rule(loaded: Worker, hub_env: HubEnv) -> list[tuple[Case, dict[str, str], Response]]:
    """The default-rule recipient's answers (the refused LSOA counts left out), asked once for the module."""
    client = hub_env.api_client("csp-default", "analyst")
    answers = []
    for case, extra in _default_rule_requests():
        response = client.get(case.path, params={**case.params, **extra})
        if not (response.status_code == 403 and case.name == "counts-lsoa"):
            answers.append((case, extra, response))
    return answers


def test_the_default_rule_recipient_is_answered_every_request(
    default_rule: list[tuple[Case, dict[str, str], Response]],
) -> None:
    for case, extra, response in default_rule:
        assert response.status_code == 200, f"{case.name} {extra}: {response.text[:300]}"
    assert len(default_rule) >= 15


def _json_answers(answers: list[tuple[Case, dict[str, str], Response]]) -> list[tuple[Case, dict[str, str], Any]]:
    return [(case, extra, response.json()) for case, extra, response in answers if extra.get("format") != "csv"]


def test_the_default_rule_is_a_minimum_cell_count_of_8(
    default_rule: list[tuple[Case, dict[str, str], Response]],
) -> None:
    for case, _, body in _json_answers(default_rule):
        if "disclosure" in body:
            assert body["disclosure"]["min_cell_count"] == 8, case.name


def test_no_json_figure_of_1_to_7_under_the_default_rule(
    default_rule: list[tuple[Case, dict[str, str], Response]],
) -> None:
    for case, extra, body in _json_answers(default_rule):
        assert _small_counts(body) == [], f"{case.name} {extra}: {_small_counts(body)[:5]}"


def test_no_csv_figure_of_1_to_7_under_the_default_rule(
    default_rule: list[tuple[Case, dict[str, str], Response]],
) -> None:
    for case, _, response in [answer for answer in default_rule if answer[1].get("format") == "csv"]:
        small = [
            f"{column}={value}"
            for row in csv.DictReader(io.StringIO(response.text))
            for column, value in row.items()
            if column not in NOT_COUNTS and value.isdigit() and 1 <= int(value) <= 7
        ]
        assert small == [], f"{case.name} csv: {small[:5]}"


@pytest.fixture(scope="module")
def ward_counts(loaded: Worker, hub_env: HubEnv) -> dict[str, Any]:
    """The default-rule recipient's police-records counts by ward, category and quarter."""
    client = hub_env.api_client("csp-default", "analyst")
    params = {"dataset": "police-records", "level": "ward", "by": "category", **RECORDS, "period": "quarter"}
    body: dict[str, Any] = client.get("/v1/counts", params=params).json()
    return body


def _cells(body: dict[str, Any]) -> dict[tuple[str | None, ...], int | None]:
    return {(r["area_code"], r["category"], r["period"]): r["count"] for r in body["rows"]}


def test_the_counts_table_has_small_cells_to_protect(ward_counts: dict[str, Any]) -> None:
    assert any(v is None for v in _cells(ward_counts).values())


def test_the_margin_attack_recovers_no_suppressed_count(ward_counts: dict[str, Any]) -> None:
    totals = ward_counts["totals"]
    margins = (totals["area"], totals["category"], totals["period"])
    rule = ward_counts["disclosure"]
    recovered = margin_attack(_cells(ward_counts), margins, totals["overall"], rule["min_cell_count"], rule["round_to"])
    assert not recovered.anything


def test_the_released_overall_total_is_within_2_of_the_events(ward_counts: dict[str, Any], hub_env: HubEnv) -> None:
    totals = ward_counts["totals"]
    with hub_env.engine.connect() as conn:
        [(events,)] = conn.execute(
            text("SELECT count(*) FROM event WHERE dataset = 'police-records' AND ward_code IS NOT NULL")
        ).all()
    assert totals["overall"] is None or abs(totals["overall"] - events) <= 2
