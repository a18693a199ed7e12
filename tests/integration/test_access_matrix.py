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
from sqlalchemy import text

from deploy.protocol_files import packaged_protocols_dir
from tests.support.disclosure_attack import margin_attack
from tests.support.hub import HubEnv, Worker, run_all
from tests.support.open_data import EASTBOURNE_CODEPOINT, EASTBOURNE_STREET
from tests.support.reference_data import ALL_LOOKUPS, load_reference

pytestmark = pytest.mark.integration

KEYS = {"HUB_LINKAGE_KEY_PERSON": "p" * 48, "HUB_LINKAGE_KEY_RECORD_IDS": "r" * 48}
EASTBOURNE = "E07000061"
DEFAULT_RULE_PROTOCOL = """
id: default-rule-test
version: 1
title: Test protocol without a disclosure rule of its own
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
     spatial_precision: ward, temporal_precision: month, output: aggregates_only}
  - {id: records, recipients: [csp-default], datasets: [police-records],
     fields: [category, period, location, domestic_abuse, victim_pseudonym],
     spatial_precision: ward, temporal_precision: day, output: aggregates_only, pseudonym_linkage: true}
  - {id: marac, recipients: [csp-default], datasets: [marac-cases],
     fields: [category, period, location, marac_area, victim_pseudonym, perpetrator_pseudonym, information_only],
     spatial_precision: district, temporal_precision: day, output: aggregates_only, pseudonym_linkage: true}
  - {id: cohorts, recipients: [csp-default], datasets: [probation-iom],
     fields: [category, period, location, offender_pseudonym, reoffended, predicted_reoffending_rate],
     spatial_precision: district, temporal_precision: month, output: aggregates_only, pseudonym_linkage: true}
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


def test_no_caller_sees_data_outside_its_protocols(loaded: Worker, hub_env: HubEnv, protocol_dirs: list[Path]) -> None:
    seen_ok: dict[str, set[str]] = {}
    for org, role in CALLERS:
        client = _client(hub_env, org, role)
        who = "public" if role in (None, "public") else str(org)
        for case in CASES:
            response = client.get(case.path, params=case.params)
            where = f"{org}/{role} {case.name}: {response.status_code} {response.text[:300]}"
            allowed = clause_refs(protocol_dirs, who, case.datasets)
            if role == "partner":
                assert response.status_code == 403, where
                continue
            if not allowed:
                assert response.status_code == 403, where
                continue
            assert response.status_code in (200, 403), where
            if response.status_code == 200:
                body = response.json()
                cited = set(body["protocols"])
                assert cited and cited <= allowed, where
                seen_ok.setdefault(who, set()).add(case.name)
    for who, cases in MUST_WORK.items():
        assert cases <= seen_ok.get(who, set()), f"{who} was refused {sorted(cases - seen_ok.get(who, set()))}"


def test_other_endpoints_by_role(loaded: Worker, hub_env: HubEnv, protocol_dirs: list[Path]) -> None:
    for org, role in CALLERS:
        client = _client(hub_env, org, role)
        who = "public" if role in (None, "public") else str(org)
        where = f"{org}/{role}"
        indicators = client.get("/v1/indicators")
        assert indicators.status_code == (401 if who == "public" else 200), where
        flows = client.get("/v1/ig/flows")
        assert flows.status_code == (200 if role == "ig_lead" else 403), where
        quality = client.get("/v1/dq")
        assert quality.status_code == (200 if role in ("ig_lead", "partner") else 403), where
        public = client.get("/v1/public/counts", params={"dataset": "police-uk-street", "level": "lsoa", **RECORDS})
        assert public.status_code == 200, where
        assert set(public.json()["protocols"]) <= clause_refs(protocol_dirs, "public", ("police-uk-street",)), where
        collections = client.get("/collections")
        if role == "partner":
            assert collections.status_code == 403, where
            continue
        assert collections.status_code == 200, where
        for collection in collections.json()["collections"]:
            dataset = collection["id"].rsplit("-", 2)[0]
            assert clause_refs(protocol_dirs, who, (dataset,)), f"{where} sees collection {collection['id']}"
        scorecard = client.get("/v1/scorecard", params={"csp": "E22000295"})
        assert scorecard.status_code == 200, where
        for row in scorecard.json()["rows"]:
            assert set(row["protocols"]) <= clause_refs(protocol_dirs, who, INDICATOR_DATASETS), where


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


def test_no_figure_of_1_to_7_under_the_default_rule(loaded: Worker, hub_env: HubEnv) -> None:
    client = hub_env.api_client("csp-default", "analyst")
    answered = 0
    for case in CASES:
        for extra in ({}, {"by": "category"}, {"format": "csv"}):
            if extra.get("by") and case.path not in ("/v1/counts", "/v1/rates", "/v1/trends"):
                continue
            response = client.get(case.path, params={**case.params, **extra})
            if response.status_code == 403 and case.name == "counts-lsoa":
                continue
            assert response.status_code == 200, f"{case.name} {extra}: {response.text[:300]}"
            answered += 1
            if extra.get("format") == "csv":
                small = [
                    f"{column}={value}"
                    for row in csv.DictReader(io.StringIO(response.text))
                    for column, value in row.items()
                    if column not in NOT_COUNTS and value.isdigit() and 1 <= int(value) <= 7
                ]
                assert small == [], f"{case.name} csv: {small[:5]}"
                continue
            body = response.json()
            if "disclosure" in body:
                assert body["disclosure"]["min_cell_count"] == 8, case.name
            assert _small_counts(body) == [], f"{case.name} {extra}: {_small_counts(body)[:5]}"
    assert answered >= 15


def test_the_margin_attack_recovers_no_suppressed_count(loaded: Worker, hub_env: HubEnv) -> None:
    client = hub_env.api_client("csp-default", "analyst")
    params = {"dataset": "police-records", "level": "ward", "by": "category", **RECORDS, "period": "quarter"}
    body = client.get("/v1/counts", params=params).json()
    cells: dict[tuple[str | None, ...], int | None] = {
        (r["area_code"], r["category"], r["period"]): r["count"] for r in body["rows"]
    }
    assert any(v is None for v in cells.values())  # the test data has small cells to protect
    totals = body["totals"]
    margins = (totals["area"], totals["category"], totals["period"])
    rule = body["disclosure"]
    recovered = margin_attack(cells, margins, totals["overall"], rule["min_cell_count"], rule["round_to"])
    assert not recovered.anything
    with hub_env.engine.connect() as conn:
        [(events,)] = conn.execute(
            text("SELECT count(*) FROM event WHERE dataset = 'police-records' AND ward_code IS NOT NULL")
        ).all()
    assert totals["overall"] is None or abs(totals["overall"] - events) <= 2
