"""GET /v1/rates and GET /v1/trends against answers computed here from `event` and the ONS population CSVs.

A generated police-records feed covers 27 months (January 2023 to March 2025) in Eastbourne and Hastings; every
other record before April 2024 is dropped before publishing, so the financial year 2024/25 has about twice the
events of 2023/24 (a change the exact test must find significant) while neighbouring months are alike. The module's
own protocols grant one recipient exact figures and another the NHS default rule; `hub population load` runs on
the test database. Counts are summed here with SQL over `event`, populations read from the CSVs, and p-values
worked out with math.comb.
"""

from __future__ import annotations

import csv
import io
import math
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from scipy.stats import gamma
from sqlalchemy import text

from tests.support.hub import HubEnv, Worker, run_all
from tests.support.open_data import CENSUS_2021_SEX, CODEPOINT, LAD_CSP_PFA_LOOKUP
from tests.support.reference_data import ALL_LOOKUPS, load_reference

pytestmark = pytest.mark.integration

KEYS = {"HUB_LINKAGE_KEY_PERSON": "p" * 48, "HUB_LINKAGE_KEY_RECORD_IDS": "r" * 48}
EASTBOURNE, HASTINGS = "E07000061", "E07000062"
EXACT, NHS = "csp-exact", "csp-nhs"
PROTOCOL = """
id: {id}
version: 1
title: {id}
status: active
valid_from: 2019-01-01
review_due: 2030-01-01
dpia_reference: TEST-DPIA
purposes: [Testing rates and trends]
legal_gateways: [{{ref: cda-1998-s115}}]
datasets: [police-records]
retention: {{months: 120}}
data_owners: [{{id: sussex-police, name: Sussex Police, datasets: [police-records]}}]
recipients: [{{id: {recipient}, name: {recipient}, kind: csp}}]
signatories: [{{role: SIRO, organisation: sussex-police}}]
clauses:
  - {{id: counts, recipients: [{recipient}], datasets: [police-records], fields: [category, period, location],
     spatial_precision: ward, temporal_precision: month, output: {output}{disclosure}}}
"""
CENSUS_SOURCE = "Census 2021 TS009 (via demographr), OGL v3"
FY_CHANGE = date(2024, 4, 1)  # records before this month are thinned to every other one


@pytest.fixture(scope="module")
def protocol_paths(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    directory = tmp_path_factory.mktemp("protocols")
    exact = ", disclosure: {min_cell_count: 1, round_to: 1}"
    # Exact figures for one recipient; the other's clause sets no rule of its own, so the NHS rule applies.
    exact_yaml = PROTOCOL.format(id="records-exact", recipient=EXACT, output="aggregates_only", disclosure=exact)
    (directory / "exact.yaml").write_text(exact_yaml)
    nhs_yaml = PROTOCOL.format(id="records-nhs", recipient=NHS, output="record_level", disclosure="")
    (directory / "nhs.yaml").write_text(nhs_yaml)
    return [directory]


@pytest.fixture(scope="module")
def loaded(hub_env: HubEnv, shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Lookups and postcodes loaded, then the thinned feed generated, published and loaded; the denominators too."""
    load_reference(hub_env.database_url, lookups=ALL_LOOKUPS, postcodes=CODEPOINT, data=shared_data)
    tmp = tmp_path_factory.mktemp("records")
    worker = Worker(hub_env, tmp / "worker.log")  # started after the lookups and postcodes: it reads them at start
    try:
        _load(hub_env, shared_data, tmp, worker)
        yield
    finally:
        worker.stop()


def _load(hub_env: HubEnv, shared_data: Path, tmp: Path, worker: Worker) -> None:
    env = {**os.environ, **hub_env.env, **KEYS}
    cli = [sys.executable, "-m", "deploy.cli"]
    generated, thinned = tmp / "generated.csv", tmp / "police-records.csv"
    districts = ["--district", EASTBOURNE, "--district", HASTINGS]
    run_all([[*cli, "generate", "police-records", str(generated), "--rows", "5000", "--seed", "11", *districts,
              "--start", "2023-01", "--months", "27"]], env)  # fmt: skip
    with generated.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        columns, rows = reader.fieldnames, list(reader)
    assert columns is not None
    kept = [r for i, r in enumerate(rows) if i % 2 == 0 or _occurred(r) >= FY_CHANGE]
    with thinned.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(kept)
    run_all([[*cli, "publish", "police-records", str(thinned)]], env)
    worker.wait_until_loaded()
    result = subprocess.run(
        [*cli, "population", "load", "--data", str(shared_data)], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr


def _occurred(row: dict[str, str]) -> date:
    return datetime.strptime(row["Occurred From"][:10], "%d/%m/%Y").date().replace(day=1)


def _monthly(hub_env: HubEnv, column: str) -> dict[tuple[str, date], int]:
    """(area code, month) -> events, straight from `event`."""
    with hub_env.engine.connect() as conn:
        rows = conn.execute(
            text(
                f"SELECT {column}, period_month, sum(weight) FROM event WHERE dataset = 'police-records' "
                f"AND {column} IS NOT NULL GROUP BY 1, 2"
            )
        ).all()
    return {(str(r[0]), r[1]): int(r[2]) for r in rows}


def _quarter(month: date) -> str:
    return f"{month.year}-Q{(month.month - 1) // 3 + 1}"


def _financial_year(month: date) -> str:
    start = month.year - (month.month < 4)
    return f"{start}/{str(start + 1)[-2:]}"


LABEL = {"month": lambda m: f"{m:%Y-%m}", "quarter": _quarter, "financial_year": _financial_year}


def _by_period(monthly: dict[tuple[str, date], int], kind: str) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = defaultdict(int)
    for (area, month), n in monthly.items():
        out[area, LABEL[kind](month)] += n
    return dict(out)


def _csv_rows(shared_data: Path, name: str) -> list[dict[str, str]]:
    with (shared_data / name).open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _census(shared_data: Path, sex: str, band: str) -> dict[str, int]:
    return {
        r["area_code"]: int(r["population"])
        for r in _csv_rows(shared_data, CENSUS_2021_SEX)
        if r["sex"] == sex and r["age_band"] == band
    }


def _csp_census(shared_data: Path, sex: str, band: str) -> dict[str, int]:
    """Each CSP's Census 2021 figure: the sum of its districts, when none of them is shared with another CSP."""
    districts = _census(shared_data, sex, band)
    members: dict[str, set[str]] = defaultdict(set)
    csps_of: dict[str, set[str]] = defaultdict(set)
    for r in _csv_rows(shared_data, LAD_CSP_PFA_LOOKUP):
        members[r["csp24_code"]].add(r["ltla24_code"])
        csps_of[r["ltla24_code"]].add(r["csp24_code"])
    return {
        csp: sum(districts[d] for d in lads)
        for csp, lads in members.items()
        if all(d in districts and len(csps_of[d]) == 1 for d in lads)
    }


def _get(client: TestClient, path: str, **params: Any) -> dict[str, Any]:
    response = client.get(path, params={"dataset": "police-records", **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _garwood(count: int, population: int, per: int) -> tuple[float, float]:
    """The exact 95% Poisson interval from gamma quantiles (the chi-square form's twin), as a rate."""
    lower = 0.0 if count == 0 else float(gamma.ppf(0.025, count))
    return lower / population * per, float(gamma.ppf(0.975, count + 1)) / population * per


def _p_value(current: int, base: int) -> float:
    """Two-sided exact binomial p-value of current out of current + base at 1/2, with math.comb."""
    n = current + base
    if n == 0:
        return 1.0
    observed = math.comb(n, current)
    return float(Fraction(sum(math.comb(n, i) for i in range(n + 1) if math.comb(n, i) <= observed), 2**n))


@pytest.mark.parametrize(("level", "column"), [("lad", "district_code"), ("csp", "csp_code")])
def test_rates_per_1000_persons_equal_counts_over_census_population(
    loaded: None, hub_env: HubEnv, shared_data: Path, level: str, column: str
) -> None:
    body = _get(hub_env.api_client(EXACT, "analyst"), "/v1/rates", level=level, **{"from": "2024-04", "to": "2025-03"},
                period="quarter")  # fmt: skip
    counts = _by_period(_monthly(hub_env, column), "quarter")
    populations = (
        _census(shared_data, "persons", "all ages")
        if level == "lad"
        else _csp_census(shared_data, "persons", "all ages")
    )
    quarters = ["2024-Q2", "2024-Q3", "2024-Q4", "2025-Q1"]
    expected = {key: n for key, n in counts.items() if key[1] in quarters}
    home = {EASTBOURNE, HASTINGS} if level == "lad" else {"E22000295", "E22000296"}  # their CSPs are themselves
    assert home <= {area for area, _ in expected}
    assert (body["denominator"], body["per"], body["periods"]) == ("persons", 1000, quarters)
    assert (body["disclosure"]["min_cell_count"], body["disclosure"]["round_to"]) == (1, 1)
    assert "not annualised" in body["basis"]
    assert {(r["area_code"], r["period"]): r["count"] for r in body["rows"]} == expected
    for row in body["rows"]:
        population = populations[row["area_code"]]
        assert row["population"] == population
        assert row["rate"] == row["count"] / population * 1000
        assert (row["rate_lower"], row["rate_upper"]) == pytest.approx(_garwood(row["count"], population, 1000))
    method = "published" if level == "lad" else "sum of districts"
    assert {d["area_code"]: (d["population"], d["year"], d["source"], d["method"]) for d in body["denominators"]} == {
        code: (populations[code], 2021, CENSUS_SOURCE, method) for code, _ in expected
    }
    assert body["no_denominator"] == []


def test_rates_per_10000_females_16_64_by_district_and_none_by_ward(
    loaded: None, hub_env: HubEnv, shared_data: Path
) -> None:
    client = hub_env.api_client(EXACT, "analyst")
    params = {"from": "2024-04", "to": "2025-03", "period": "financial_year", "denominator": "adult_females"}
    body = _get(client, "/v1/rates", level="lad", **params)
    females = _census(shared_data, "female", "16-64")
    counts = _by_period(_monthly(hub_env, "district_code"), "financial_year")
    assert (body["per"], body["sex"], body["age_band"]) == (10000, "female", "16-64")
    assert "Census 2021" in body["denominator_description"]
    served = {(r["area_code"], r["period"]): (r["count"], r["rate"]) for r in body["rows"]}
    assert served == {(code, fy): (n, n / females[code] * 10000) for (code, fy), n in counts.items() if fy == "2024/25"}
    assert {d["year"] for d in body["denominators"]} == {2021}

    per_100k = _get(client, "/v1/rates", level="lad", per=100000, **params)
    assert [r["rate"] for r in per_100k["rows"]] == [
        r["count"] / females[r["area_code"]] * 100000 for r in per_100k["rows"]
    ]

    wards = _get(client, "/v1/rates", level="ward", **params)
    ward_counts = _by_period(_monthly(hub_env, "ward_code"), "financial_year")
    assert {(r["area_code"], r["period"]): r["count"] for r in wards["rows"]} == {
        key: n for key, n in ward_counts.items() if key[1] == "2024/25"
    }
    assert wards["rows"] and all(r["rate"] is None and r["population"] is None for r in wards["rows"])
    assert all(r["note"].startswith("no denominator") for r in wards["rows"])
    assert wards["denominators"] == []
    assert {m["area_code"] for m in wards["no_denominator"]} == {r["area_code"] for r in wards["rows"]}
    assert all("ward areas" in m["reason"] for m in wards["no_denominator"])


def test_rates_as_csv_and_geojson_carry_the_same_figures(loaded: None, hub_env: HubEnv) -> None:
    client = hub_env.api_client(EXACT, "analyst")
    params = {"dataset": "police-records", "level": "lad", "from": "2024-04", "to": "2024-06"}
    body = client.get("/v1/rates", params=params).json()
    as_csv = client.get("/v1/rates", params={**params, "format": "csv"})
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [(r["area_code"], r["period"], int(r["count"]), float(r["rate"])) for r in rows] == [
        (r["area_code"], r["period"], r["count"], r["rate"]) for r in body["rows"]
    ]
    assert {r["population_year"] for r in rows} == {"2021"}
    geo = client.get("/v1/rates", params={**params, "format": "geojson"}).json()
    assert geo["type"] == "FeatureCollection" and geo["per"] == 1000
    assert [f["properties"]["rate"] for f in geo["features"]] == [r["rate"] for r in body["rows"]]


def test_trends_as_csv_flatten_the_comparisons_and_bad_parameters_are_refused(loaded: None, hub_env: HubEnv) -> None:
    client = hub_env.api_client(EXACT, "analyst")
    params = {"dataset": "police-records", "level": "lad", "from": "2024-04", "to": "2024-06", "period": "quarter"}
    body = client.get("/v1/trends", params=params).json()
    as_csv = client.get("/v1/trends", params={**params, "format": "csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [
        (r["area_code"], r["period"], r["count"], r["year_ago_count"], r["previous_significant"]) for r in rows
    ] == [
        (r["area_code"], r["period"], str(r["count"]), str(r["year_ago"]["count"]), str(r["previous"]["significant"]))
        for r in body["rows"]
    ]
    assert client.get("/v1/trends", params={**params, "period": "all"}).status_code == 422
    assert client.get("/v1/rates", params={**params, "per": 500}).status_code == 422
    assert client.get("/v1/rates", params={**params, "denominator": "children"}).status_code == 422


@pytest.mark.parametrize("kind", ["quarter", "financial_year"])
def test_trends_give_the_previous_and_year_ago_changes_and_their_significance(
    loaded: None, hub_env: HubEnv, kind: str
) -> None:
    body = _get(hub_env.api_client(EXACT, "analyst"), "/v1/trends", level="lad", period=kind,
                **{"from": "2024-04", "to": "2025-03"})  # fmt: skip
    counts = _by_period(_monthly(hub_env, "district_code"), kind)
    periods = ["2024-Q2", "2024-Q3", "2024-Q4", "2025-Q1"] if kind == "quarter" else ["2024/25"]
    previous = {"2024-Q2": "2024-Q1", "2024-Q3": "2024-Q2", "2024-Q4": "2024-Q3", "2025-Q1": "2024-Q4"}
    previous["2024/25"] = "2023/24"
    year_ago = {"2024-Q2": "2023-Q2", "2024-Q3": "2023-Q3", "2024-Q4": "2023-Q4", "2025-Q1": "2024-Q1"}
    year_ago["2024/25"] = "2023/24"
    assert body["periods"] == periods
    assert "released" in body["basis"] and body["method"] == "exact conditional Poisson test"
    areas = {a for a, _ in counts}
    expected_rows = {
        (a, p) for a in areas for p in periods if any(counts.get((a, q), 0) for q in (p, previous[p], year_ago[p]))
    }
    assert {(r["area_code"], r["period"]) for r in body["rows"]} == expected_rows
    flags = set()
    for row in body["rows"]:
        area, period = row["area_code"], row["period"]
        current = counts.get((area, period), 0)
        assert row["count"] == current
        for name, base_period in (("previous", previous[period]), ("year_ago", year_ago[period])):
            base = counts.get((area, base_period), 0)
            change = row[name]
            assert (change["period"], change["count"], change["absolute_change"]) == (base_period, base, current - base)
            assert change["percent_change"] == (None if base == 0 else (current - base) / base * 100)
            p_value = _p_value(current, base)
            assert change["p_value"] == pytest.approx(p_value, rel=1e-9, abs=1e-300)
            assert change["significant"] is (p_value < 0.05)
            assert change["indicative"] is (current < 20 or base < 20)
            flags.add(change["significant"])
    # The thinned year is found; quarter on quarter within a year is mostly not significant.
    assert True in flags and (kind != "quarter" or False in flags)
    for district in (EASTBOURNE, HASTINGS):  # about twice the events in 2024/25: a real rise
        [row] = [r for r in body["rows"] if r["area_code"] == district and r["period"] == periods[0]]
        assert row["year_ago"]["significant"] is True and row["year_ago"]["percent_change"] > 50


def test_trends_have_no_base_before_the_first_month_with_data(loaded: None, hub_env: HubEnv) -> None:
    body = _get(hub_env.api_client(EXACT, "analyst"), "/v1/trends", level="lad", period="month",
                **{"from": "2023-01", "to": "2023-02"})  # fmt: skip
    counts = _by_period(_monthly(hub_env, "district_code"), "month")
    assert body["first_month"] == "2023-01"
    for row in body["rows"]:
        assert row["count"] == counts.get((row["area_code"], row["period"]), 0)
        assert row["year_ago"]["count"] is None and row["year_ago"]["significant"] is None
        assert row["year_ago"]["note"].startswith("before the first month with data")
    february = [r for r in body["rows"] if r["period"] == "2023-02"]
    assert february and all(r["previous"]["count"] == counts.get((r["area_code"], "2023-01"), 0) for r in february)


def test_under_the_nhs_rule_no_count_of_1_to_7_and_no_rate_for_a_suppressed_count(
    loaded: None, shared_data: Path, hub_env: HubEnv
) -> None:
    client = hub_env.api_client(NHS, "analyst")
    months = {"from": "2024-04", "to": "2024-09"}
    wards = _get(client, "/v1/rates", level="ward", period="quarter", **months)
    districts = _get(client, "/v1/rates", level="lad", by="category", **months)
    trends = _get(client, "/v1/trends", level="ward", period="quarter", **months)
    for body in (wards, districts, trends):
        assert body["disclosure"]["source"] == "default"
        assert (body["disclosure"]["min_cell_count"], body["disclosure"]["round_to"]) == (8, 5)
    persons = _census(shared_data, "persons", "all ages")
    for body in (wards, districts):
        released = [r["count"] for r in body["rows"]] + [u["count"] for u in body["unlocated"]]
        assert not any(n is not None and 1 <= n <= 7 for n in released)
        assert all(n is None or n % 5 == 0 for n in released)
        assert None in released and any(released)  # some suppressed, some shown
        for row in body["rows"]:
            if row["count"] is None:
                assert row["rate"] is None and row["rate_lower"] is None and "suppressed" in row["note"]
            else:
                assert row["rate"] == row["count"] / row["population"] * 1000
                assert row["rate_upper"] == pytest.approx(_garwood(row["count"], row["population"], 1000)[1])
    assert all(r["population"] == persons[r["area_code"]] for r in districts["rows"])

    shown = [r["count"] for r in trends["rows"]]
    shown += [r[name]["count"] for r in trends["rows"] for name in ("previous", "year_ago")]
    assert not any(n is not None and 1 <= n <= 7 for n in shown)
    assert None in shown and any(shown)
    for row in trends["rows"]:
        for name in ("previous", "year_ago"):
            change = row[name]
            if row["count"] is None or change["count"] is None:
                assert change["absolute_change"] is None and change["significant"] is None
            else:  # from the released (rounded) counts
                assert change["absolute_change"] == row["count"] - change["count"]
                assert change["p_value"] == pytest.approx(_p_value(row["count"], change["count"]), rel=1e-9)
