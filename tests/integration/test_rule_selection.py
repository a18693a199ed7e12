"""Which rule a figure gets, end to end (docs/protocols.md, "Which rule a figure gets"): generated MARAC cases and
police records, published and loaded.

Two findings of issue 13 replayed against the hub: (1) a protected dataset (MARAC, 10 / 5 for Eastbourne CSP)
asked together with an exact record-level one (police records) in one /v1/counts query, then the exact one alone,
then subtracted, over several category combinations, must recover no suppressed MARAC count; (2) a caller whose
MARAC events are justified by an exact clause of its own, while another protocol's strict clause also fits, must
get the same figure for the same events from /v1/counts and /v1/repeats. Expectations come from `SELECT ... FROM
event`, not from the hub's queries.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from tests.support.hub import HubEnv, Worker, run_all
from tests.support.open_data import CODEPOINT
from tests.support.protocol_files import protocol_document, with_packaged
from tests.support.reference_data import WARD_LOOKUPS, load_reference

pytestmark = pytest.mark.integration

KEYS = {"HUB_LINKAGE_KEY_PERSON": "p" * 48, "HUB_LINKAGE_KEY_RECORD_IDS": "r" * 48}
EASTBOURNE = "E07000061"
ANALYSTS = "rule-analysts"
FROM, TO = "2024-07", "2025-06"
SPAN = ("--start", "2023-07", "--months", "24")
GENERATED = {
    "police-records": ("--rows", "900", "--district", EASTBOURNE),
    "marac-cases": ("--rows", "260", "--district", EASTBOURNE),
}
MARAC_FIELDS = "[category, period, location, marac_area, victim_pseudonym, perpetrator_pseudonym, information_only]"


def _protocol(protocol_id: str, clause: str, disclosure: str) -> str:
    return protocol_document(
        protocol_id,
        "MARAC counts for the rule-selection tests",
        ["marac-cases"],
        f"""
data_owners: [{{id: east-sussex-marac, name: East Sussex MARAC, datasets: [marac-cases]}}]
recipients: [{{id: {ANALYSTS}, name: Analysts, kind: csp}}]
signatories: [{{role: SIRO, organisation: east-sussex-marac}}]
clauses:
  - {{id: {clause}, recipients: [{ANALYSTS}], datasets: [marac-cases], fields: {MARAC_FIELDS},
     spatial_precision: district, temporal_precision: day, output: aggregates_only, pseudonym_linkage: true,
     disclosure: {disclosure}}}
""",
    )


OWN = _protocol("marac-own", "exact", "{min_cell_count: 1, round_to: 1}")  # the caller's own, exact
OTHER = _protocol("marac-other", "strict", "{min_cell_count: 10, round_to: 5}")  # another protocol, strict


@pytest.fixture(scope="module")
def protocol_paths(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return with_packaged(tmp_path_factory, {"marac-own.yaml": OWN, "marac-other.yaml": OTHER})


@pytest.fixture(scope="module")
def loaded(hub_env: HubEnv, shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Lookups and postcodes loaded before the worker starts; the feeds generated, published and loaded."""
    load_reference(hub_env.database_url, lookups=WARD_LOOKUPS, postcodes=CODEPOINT, data=shared_data)
    tmp = tmp_path_factory.mktemp("feeds")
    env = {**os.environ, **hub_env.env, **KEYS}
    cli = [sys.executable, "-m", "deploy.cli"]
    paths = {dataset: tmp / f"{dataset}.csv" for dataset in GENERATED}
    run_all(
        [
            [*cli, "generate", dataset, str(paths[dataset]), "--seed", "13", *SPAN, *options]
            for dataset, options in GENERATED.items()
        ],
        env,
    )
    worker = Worker(hub_env, tmp / "worker.log")
    try:
        run_all([[*cli, "publish", dataset, str(path)] for dataset, path in paths.items()], env)
        worker.wait_until_loaded()
        yield
    finally:
        worker.stop()


def _get(client: TestClient, path: str, **params: Any) -> dict[str, Any]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _cells(body: dict[str, Any]) -> dict[tuple[str, str], int | None]:
    return {(r["area_code"], r["period"]): r["count"] for r in body["rows"]}


# --- (1) no cross-dataset subtraction -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def eastbourne(loaded: None, hub_env: HubEnv) -> TestClient:
    return hub_env.api_client("eastbourne-csp", "analyst")


@pytest.fixture(scope="module")
def true_marac(loaded: None, hub_env: HubEnv) -> Counter[tuple[str, str]]:
    """Eastbourne's MARAC referrals (not information-only) per district and month, from the events."""
    rows = hub_env.query(
        "SELECT district_code, period_month FROM event WHERE dataset = 'marac-cases' AND category = 'referral' "
        "AND district_code = :d AND period_month BETWEEN :f AND :t",
        d=EASTBOURNE,
        f=date(2024, 7, 1),
        t=date(2025, 6, 1),
    )
    return Counter((str(r[0]), f"{r[1]:%Y-%m}") for r in rows)


@pytest.fixture(scope="module")
def police_categories(loaded: None, hub_env: HubEnv) -> list[str]:
    rows = hub_env.query(
        "SELECT DISTINCT category FROM event WHERE dataset = 'police-records' AND district_code = :d ORDER BY 1",
        d=EASTBOURNE,
    )
    return [str(r[0]) for r in rows]


def _asked(client: TestClient, datasets: list[str], categories: list[str]) -> Response:
    params: dict[str, Any] = {"dataset": datasets, "category": categories, "level": "lad", "from": FROM, "to": TO}
    response: Response = client.get("/v1/counts", params=params)
    return response


@pytest.fixture(scope="module")
def subtraction(
    eastbourne: TestClient, police_categories: list[str]
) -> tuple[dict[tuple[str, str], int | None], list[Response], dict[tuple[str, str], set[int]]]:
    """The attack replayed: MARAC alone; then, for every police category, MARAC and police records together and
    police records alone; the candidate MARAC values each (district, month) is left with."""
    alone = _cells(
        _get(
            eastbourne,
            "/v1/counts",
            **{"dataset": "marac-cases", "category": "referral"},
            level="lad",
            **{"from": FROM, "to": TO},
        )
    )
    combined_answers = []
    candidates: dict[tuple[str, str], set[int]] = {key: set(range(1, 10)) for key, n in alone.items() if n is None}
    for category in police_categories:
        combined = _asked(eastbourne, ["marac-cases", "police-records"], ["referral", category])
        combined_answers.append(combined)
        if combined.status_code != 200:
            continue
        rule = combined.json()["disclosure"]
        exact = _cells(
            _get(
                eastbourne,
                "/v1/counts",
                dataset="police-records",
                category=category,
                level="lad",
                **{"from": FROM, "to": TO},
            )
        )
        half = rule["round_to"] // 2
        for key, both in _cells(combined.json()).items():
            if key in candidates and both is not None:
                known = exact.get(key, 0) or 0
                candidates[key] &= set(range(both - half - known, both - half - known + rule["round_to"]))
    return alone, combined_answers, candidates


def test_the_marac_counts_alone_have_suppressed_cells_to_protect(
    subtraction: tuple[dict[tuple[str, str], int | None], list[Response], dict[tuple[str, str], set[int]]],
    true_marac: Counter[tuple[str, str]],
) -> None:
    alone, _, _ = subtraction
    suppressed = [key for key, n in alone.items() if n is None]
    assert suppressed and all(1 <= true_marac[key] <= 9 for key in suppressed if true_marac[key])


def test_the_cross_dataset_subtraction_recovers_no_suppressed_marac_count(
    subtraction: tuple[dict[tuple[str, str], int | None], list[Response], dict[tuple[str, str], set[int]]],
    true_marac: Counter[tuple[str, str]],
) -> None:
    _, _, candidates = subtraction
    recovered = {key: values for key, values in candidates.items() if len(values) == 1}
    assert recovered == {}, {key: (values, true_marac[key]) for key, values in recovered.items()}


def test_datasets_under_different_rules_are_refused_together_naming_each_rule(
    subtraction: tuple[dict[tuple[str, str], int | None], list[Response], dict[tuple[str, str], set[int]]],
) -> None:
    _, combined, _ = subtraction
    assert combined and {r.status_code for r in combined} == {422}
    detail = combined[0].json()["detail"]
    assert "different disclosure rules" in detail and "marac-cases" in detail and "police-records" in detail


def test_each_dataset_alone_is_answered_under_its_own_rule(eastbourne: TestClient) -> None:
    rules = {
        dataset: _get(eastbourne, "/v1/counts", dataset=dataset, level="lad", **{"from": FROM, "to": TO})["disclosure"]
        for dataset in ("marac-cases", "police-records")
    }
    assert {d: (r["min_cell_count"], r["round_to"]) for d, r in rules.items()} == {
        "marac-cases": (10, 5),
        "police-records": (1, 1),
    }


def test_the_rule_does_not_change_with_the_level_or_months_asked(eastbourne: TestClient) -> None:
    # police records: exact at ward level (one clause permits it) and at district level (two do, both justify).
    rules = {
        (level, month): _get(
            eastbourne, "/v1/counts", dataset="police-records", level=level, **{"from": month, "to": month}
        )["disclosure"]["round_to"]
        for level in ("ward", "lad")
        for month in (FROM, TO)
    }
    assert set(rules.values()) == {1}


# --- (2) one rule for the same events on every endpoint -----------------------------------------------------------


@pytest.fixture(scope="module")
def analysts(loaded: None, hub_env: HubEnv) -> TestClient:
    return hub_env.api_client(ANALYSTS, "analyst")


@pytest.fixture(scope="module")
def both_endpoints(analysts: TestClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """The analysts' MARAC referrals per district and rolling 12 months, from /v1/counts and from /v1/repeats."""
    window = {"from": FROM, "to": TO}
    counts = _get(
        analysts, "/v1/counts", dataset="marac-cases", category="referral", level="lad", period="rolling_12", **window
    )
    repeats = _get(analysts, "/v1/repeats", measure="marac", by="area", level="lad", **window)
    return counts, repeats


def test_counts_and_repeats_give_the_same_figure_for_the_same_events(
    both_endpoints: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    counts, repeats = both_endpoints
    from_counts = _cells(counts)
    from_repeats = {(r["area_code"], r["period"]): r["cases"] for r in repeats["rows"] if r["cases"]}
    assert from_repeats and from_counts == from_repeats


def test_counts_and_repeats_cite_the_same_rule_the_callers_own_exact_clause(
    both_endpoints: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    found = {
        (b["disclosure"]["min_cell_count"], b["disclosure"]["round_to"], tuple(b["disclosure"]["clauses"]))
        for b in both_endpoints
    }
    assert found == {(1, 1, ("marac-own@1#exact",))}


def test_the_marac_figures_are_the_true_counts(
    both_endpoints: tuple[dict[str, Any], dict[str, Any]], hub_env: HubEnv
) -> None:
    counts, _ = both_endpoints
    rows = hub_env.query(
        "SELECT district_code, period_month FROM event WHERE dataset = 'marac-cases' AND category = 'referral' "
        "AND district_code IS NOT NULL"
    )
    expected: Counter[tuple[str, str]] = Counter()
    for district, month in rows:
        for label in counts["periods"]:  # "12 months to YYYY-MM"
            last = date(int(label[-7:-3]), int(label[-2:]), 1)
            first = date(last.year - 1, last.month, 1)
            if first < month <= last:
                expected[(str(district), label)] += 1
    assert _cells(counts) == {key: n for key, n in expected.items()}
