"""GET /v1/scorecard end to end: generated police records over 30 months, the packaged protocols (exact counts for
the record-level CSP recipients), population denominators, and indicators written by the test.

Expectations are computed here: counts with SQL over `event` (the 12 months to the latest month less the lag, and
the 12 before), populations from the ONS CSV, the RAG by the written rule (green when the target is met, amber
within the tolerance, red beyond), direction of travel from a binomial tail sum.
"""

from __future__ import annotations

import csv
import math
import os
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.support.hub import HubEnv, Worker, run_all
from tests.support.open_data import CENSUS_2021_SEX
from tests.support.reference_data import ALL_LOOKUPS, load_reference
from warehouse.reference.indicator_registry import load_directory
from warehouse.reference.indicator_store import load_indicators
from warehouse.schema.db import session_scope

pytestmark = pytest.mark.integration

KEYS = {"HUB_LINKAGE_KEY_PERSON": "p" * 48, "HUB_LINKAGE_KEY_RECORD_IDS": "r" * 48}
EASTBOURNE_LAD, EASTBOURNE_CSP = "E07000061", "E22000295"
LAG = 1
INDICATOR = """
id: {id}
title: {id}
definition: Test indicator.
owner: eastbourne-csp
dataset: police-records
{filters}
measure: {measure}
{denominator}
direction: {direction}
baseline: {{year: "2022/23", value: 1}}
targets: {{"{year}": {target}}}
tolerance_pct: 5
data_lag_months: {lag}
provisional_months: 1
level: csp
"""


def _add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def _fy(month: date) -> str:
    start = month.year if month.month >= 4 else month.year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def _query(hub_env: HubEnv, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with hub_env.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def _count(hub_env: HubEnv, first: date, last: date, where: str) -> int:
    [(n,)] = _query(
        hub_env,
        "SELECT count(*) FROM event WHERE dataset = 'police-records' AND csp_code = :csp "
        f"AND period_month BETWEEN :f AND :l AND {where}",
        csp=EASTBOURNE_CSP,
        f=first,
        l=last,
    )
    return int(n)


def _population(shared_data: Path) -> int:
    """Eastbourne's latest persons figure (Census 2021; the CSP is the one district)."""
    with (shared_data / CENSUS_2021_SEX).open(encoding="utf-8") as handle:
        [value] = [
            int(r["population"])
            for r in csv.DictReader(handle)
            if r["area_code"] == EASTBOURNE_LAD and r["sex"] == "persons" and r["age_band"] == "all ages"
        ]
    return value


@pytest.fixture(scope="module")
def loaded(
    hub_env: HubEnv, shared_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Worker, date]]:
    load_reference(hub_env.database_url, lookups=ALL_LOOKUPS, population=True, data=shared_data)
    tmp = tmp_path_factory.mktemp("scorecard")
    worker = Worker(hub_env, tmp / "worker.log")  # started after the lookups: it reads them at start
    env = {**os.environ, **hub_env.env, **KEYS}
    cli = [sys.executable, "-m", "deploy.cli"]
    path = tmp / "police-records.csv"
    generate = ["--rows", "3000", "--district", EASTBOURNE_LAD, "--start", "2023-01", "--months", "30", "--seed", "9"]
    run_all([[*cli, "generate", "police-records", str(path), *generate]], env)
    run_all([[*cli, "publish", "police-records", str(path)]], env)
    worker.wait_until_loaded()
    [(latest,)] = _query(hub_env, "SELECT max(period_month) FROM event WHERE dataset = 'police-records'")
    yield worker, latest
    worker.stop()


def _write_indicators(directory: Path, specs: list[dict[str, str]]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for spec in specs:
        (directory / f"{spec['id']}.yaml").write_text(INDICATOR.format(lag=LAG, **spec), encoding="utf-8")


def _binomial_p(k1: int, k2: int) -> float:
    n = k1 + k2
    probs = [math.comb(n, i) / float(2**n) for i in range(n + 1)]
    return float(min(1.0, sum(p for p in probs if p <= probs[k1] * (1 + 1e-7))))


@pytest.fixture(scope="module")
def expected(
    loaded: tuple[Worker, date], hub_env: HubEnv, shared_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """Indicators with targets set around the independently counted figures, loaded; and those figures."""
    _, latest = loaded
    end = _add_months(latest, -LAG)
    start, prev_end = _add_months(end, -11), _add_months(end, -12)
    prev_start = _add_months(prev_end, -11)
    violent = "category = 'violent-crime'"
    domestic = "attributes @> '{\"domestic_abuse\": true}'"
    actual_v, previous_v = _count(hub_env, start, end, violent), _count(hub_env, prev_start, prev_end, violent)
    actual_d = _count(hub_env, start, end, domestic)
    assert actual_v > 100 and actual_d > 20  # enough data for the test to mean something
    rate = actual_d / _population(shared_data) * 1000
    year = _fy(end)
    specs = [  # one green, one amber, one red
        {"id": "violence-green", "filters": "categories: [violent-crime]", "target": str(actual_v)},
        {"id": "violence-amber", "filters": "categories: [violent-crime]", "target": f"{actual_v / 1.03:.2f}"},
        {"id": "violence-red", "filters": "categories: [violent-crime]", "target": f"{actual_v / 1.5:.2f}"},
        {"id": "da-rate", "filters": "attributes: {domestic_abuse: true}", "target": f"{rate * 1.2:.3f}"},
    ]
    for spec in specs:
        spec.update(year=year, direction="lower_is_better", measure="count", denominator="")
    specs[-1].update(measure="rate", denominator="denominator: {sex: persons, age_band: all ages, per: 1000}")
    directory = tmp_path_factory.mktemp("indicators")
    _write_indicators(directory, specs)
    with session_scope(hub_env.engine) as session:
        load_indicators(session, load_directory(directory))
    return {
        "ids": {s["id"] for s in specs},
        "window": (start, end),
        "violent": (actual_v, previous_v),
        "domestic": actual_d,
        "rate": rate,
        "year": year,
    }


@pytest.fixture(scope="module")
def scorecard(expected: dict[str, Any], hub_env: HubEnv) -> dict[str, dict[str, Any]]:
    """Eastbourne's scorecard as its CSP's analyst sees it, by indicator."""
    body = hub_env.api_client("eastbourne-csp", "analyst").get("/v1/scorecard", params={"csp": EASTBOURNE_CSP}).json()
    return {r["indicator_id"]: r for r in body["rows"]}


def test_scorecard_has_a_row_per_indicator(scorecard: dict[str, dict[str, Any]], expected: dict[str, Any]) -> None:
    assert set(scorecard) == expected["ids"]


RAGS = [("violence-green", "green"), ("violence-amber", "amber"), ("violence-red", "red")]


@pytest.mark.parametrize(("name", "rag"), RAGS)
def test_scorecard_window_is_the_12_months_to_the_latest_less_the_lag(
    scorecard: dict[str, dict[str, Any]], expected: dict[str, Any], name: str, rag: str
) -> None:
    start, end = expected["window"]
    row = scorecard[name]
    assert (row["status"], row["period_start"], row["period_end"]) == ("ok", f"{start:%Y-%m}", f"{end:%Y-%m}")


@pytest.mark.parametrize(("name", "rag"), RAGS)
def test_scorecard_figures_and_rag_equal_independent_ones(
    scorecard: dict[str, dict[str, Any]], expected: dict[str, Any], name: str, rag: str
) -> None:
    actual_v, previous_v = expected["violent"]
    row = scorecard[name]
    assert (row["actual"], row["count"], row["previous"], row["rag"]) == (actual_v, actual_v, previous_v, rag)


@pytest.mark.parametrize(("name", "rag"), RAGS)
def test_scorecard_gives_the_financial_year_and_is_not_provisional(
    scorecard: dict[str, dict[str, Any]], expected: dict[str, Any], name: str, rag: str
) -> None:
    row = scorecard[name]
    assert row["financial_year"] == expected["year"] and row["provisional"] is False  # lag 1 > 0 provisional months


@pytest.mark.parametrize(("name", "rag"), RAGS)
def test_scorecard_direction_of_travel_equals_the_binomial_test(
    scorecard: dict[str, dict[str, Any]], expected: dict[str, Any], name: str, rag: str
) -> None:
    actual_v, previous_v = expected["violent"]
    significant = _binomial_p(actual_v, previous_v) < 0.05
    expected_travel = (
        "no significant change"
        if not significant or actual_v == previous_v
        else ("improving" if actual_v < previous_v else "worsening")
    )
    assert scorecard[name]["direction_of_travel"] == expected_travel


def test_a_rate_indicator_counts_the_events(scorecard: dict[str, dict[str, Any]], expected: dict[str, Any]) -> None:
    assert scorecard["da-rate"]["count"] == expected["domestic"]


def test_a_rate_indicator_divides_by_the_population(
    scorecard: dict[str, dict[str, Any]], expected: dict[str, Any]
) -> None:
    assert scorecard["da-rate"]["actual"] == pytest.approx(expected["rate"], rel=1e-12)


def test_a_rate_indicator_meeting_its_target_is_green(scorecard: dict[str, dict[str, Any]]) -> None:
    assert scorecard["da-rate"]["rag"] == "green"


def test_a_rate_indicator_names_its_denominator(scorecard: dict[str, dict[str, Any]]) -> None:
    assert "Census 2021" in scorecard["da-rate"]["denominator"]


@pytest.fixture(scope="module")
def essex_scorecard(expected: dict[str, Any], hub_env: HubEnv) -> list[dict[str, Any]]:
    """Eastbourne's scorecard asked by Essex CSP, which no protocol gives police records."""
    body = hub_env.api_client("essex-csp", "analyst").get("/v1/scorecard", params={"csp": EASTBOURNE_CSP}).json()
    rows: list[dict[str, Any]] = body["rows"]
    return rows


def test_an_indicator_outside_the_callers_protocols_is_not_available(essex_scorecard: list[dict[str, Any]]) -> None:
    assert essex_scorecard and all(r["status"] == "not_available" and r["actual"] is None for r in essex_scorecard)


def test_an_indicator_outside_the_callers_protocols_names_the_dataset(essex_scorecard: list[dict[str, Any]]) -> None:
    assert all("police-records" in r["reason"] for r in essex_scorecard)


def test_partners_get_no_scorecard(expected: dict[str, Any], hub_env: HubEnv) -> None:
    partner = hub_env.api_client("sussex-police", "partner").get("/v1/scorecard", params={"csp": EASTBOURNE_CSP})
    assert partner.status_code == 403


def test_scorecard_csv_has_the_independent_figures(expected: dict[str, Any], hub_env: HubEnv) -> None:
    """format=csv: one record per indicator, the CSP first, the counted figures and RAG as the JSON form has them."""
    answer = hub_env.api_client("eastbourne-csp", "analyst").get(
        "/v1/scorecard", params={"csp": EASTBOURNE_CSP, "format": "csv"}
    )
    assert answer.headers["content-type"].startswith("text/csv") and answer.headers["X-Disclosure-Rule"]
    records = {r["indicator_id"]: r for r in csv.DictReader(answer.text.splitlines())}
    actual_v, previous_v = expected["violent"]
    start, end = expected["window"]
    assert set(records) == expected["ids"]
    assert {
        (name, r["csp"], r["count"], r["previous"], r["rag"]) for name, r in records.items() if name in dict(RAGS)
    } == {(name, EASTBOURNE_CSP, str(actual_v), str(float(previous_v)), rag) for name, rag in RAGS}
    assert {(r["period_start"], r["period_end"]) for r in records.values()} == {(f"{start:%Y-%m}", f"{end:%Y-%m}")}


def test_scorecard_csv_of_an_indicator_not_available_has_empty_figures(
    expected: dict[str, Any], hub_env: HubEnv
) -> None:
    answer = hub_env.api_client("essex-csp", "analyst").get(
        "/v1/scorecard", params={"csp": EASTBOURNE_CSP, "format": "csv"}
    )
    records = list(csv.DictReader(answer.text.splitlines()))
    assert records and all(
        r["status"] == "not_available" and r["actual"] == "" and r["rag"] == "" and "police-records" in r["reason"]
        for r in records
    )


def test_scorecard_refuses_another_format(expected: dict[str, Any], hub_env: HubEnv) -> None:
    answer = hub_env.api_client("eastbourne-csp", "analyst").get(
        "/v1/scorecard", params={"csp": EASTBOURNE_CSP, "format": "geojson"}
    )
    assert answer.status_code == 422 and answer.headers["content-type"].startswith("application/problem+json")
