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
from httpx import Response
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


QUARTERS = ["2024-Q2", "2024-Q3", "2024-Q4", "2025-Q1"]


class PersonsRates:
    """The exact recipient's quarterly rates per 1,000 persons at one level, and what they should be."""

    def __init__(self, hub_env: HubEnv, shared_data: Path, level: str, column: str) -> None:
        self.level = level
        self.body = _get(hub_env.api_client(EXACT, "analyst"), "/v1/rates", level=level,
                         **{"from": "2024-04", "to": "2025-03"}, period="quarter")  # fmt: skip
        counts = _by_period(_monthly(hub_env, column), "quarter")
        self.populations = (
            _census(shared_data, "persons", "all ages")
            if level == "lad"
            else _csp_census(shared_data, "persons", "all ages")
        )
        self.expected = {key: n for key, n in counts.items() if key[1] in QUARTERS}


@pytest.fixture(scope="module", params=[("lad", "district_code"), ("csp", "csp_code")], ids=["lad", "csp"])
def persons_rates(loaded: None, hub_env: HubEnv, shared_data: Path, request: pytest.FixtureRequest) -> PersonsRates:
    level, column = request.param
    return PersonsRates(hub_env, shared_data, level, column)


def test_rates_per_1000_persons_cover_the_home_areas(persons_rates: PersonsRates) -> None:
    home = {EASTBOURNE, HASTINGS} if persons_rates.level == "lad" else {"E22000295", "E22000296"}  # CSPs: themselves
    assert home <= {area for area, _ in persons_rates.expected}


def test_rates_per_1000_persons_describe_their_denominator_and_periods(persons_rates: PersonsRates) -> None:
    body = persons_rates.body
    assert (body["denominator"], body["per"], body["periods"]) == ("persons", 1000, QUARTERS)


def test_rates_per_1000_persons_are_exact_for_the_exact_recipient(persons_rates: PersonsRates) -> None:
    body = persons_rates.body
    assert (body["disclosure"]["min_cell_count"], body["disclosure"]["round_to"]) == (1, 1)


def test_rates_per_1000_persons_are_not_annualised(persons_rates: PersonsRates) -> None:
    assert "not annualised" in persons_rates.body["basis"]


def test_rates_per_1000_persons_count_the_events(persons_rates: PersonsRates) -> None:
    rows = persons_rates.body["rows"]
    assert {(r["area_code"], r["period"]): r["count"] for r in rows} == persons_rates.expected


def test_rates_per_1000_persons_give_the_census_population(persons_rates: PersonsRates) -> None:
    for row in persons_rates.body["rows"]:
        assert row["population"] == persons_rates.populations[row["area_code"]]


def test_rates_per_1000_persons_equal_counts_over_census_population(persons_rates: PersonsRates) -> None:
    for row in persons_rates.body["rows"]:
        assert row["rate"] == row["count"] / persons_rates.populations[row["area_code"]] * 1000


def test_rates_per_1000_persons_give_the_exact_poisson_interval(persons_rates: PersonsRates) -> None:
    for row in persons_rates.body["rows"]:
        population = persons_rates.populations[row["area_code"]]
        assert (row["rate_lower"], row["rate_upper"]) == pytest.approx(_garwood(row["count"], population, 1000))


def test_rates_per_1000_persons_list_their_denominators(persons_rates: PersonsRates) -> None:
    method = "published" if persons_rates.level == "lad" else "sum of districts"
    body, populations = persons_rates.body, persons_rates.populations
    assert {d["area_code"]: (d["population"], d["year"], d["source"], d["method"]) for d in body["denominators"]} == {
        code: (populations[code], 2021, CENSUS_SOURCE, method) for code, _ in persons_rates.expected
    }


def test_rates_per_1000_persons_have_a_denominator_for_every_area(persons_rates: PersonsRates) -> None:
    assert persons_rates.body["no_denominator"] == []


FEMALES = {"from": "2024-04", "to": "2025-03", "period": "financial_year", "denominator": "adult_females"}


@pytest.fixture(scope="module")
def females(loaded: None, hub_env: HubEnv) -> dict[str, dict[str, Any]]:
    """The exact recipient's 2024/25 rates per adult female: by district, by district per 100,000, and by ward."""
    client = hub_env.api_client(EXACT, "analyst")
    return {
        "lad": _get(client, "/v1/rates", level="lad", **FEMALES),
        "per_100k": _get(client, "/v1/rates", level="lad", per=100000, **FEMALES),
        "ward": _get(client, "/v1/rates", level="ward", **FEMALES),
    }


def test_rates_per_adult_female_are_per_10000_females_16_64(females: dict[str, dict[str, Any]]) -> None:
    body = females["lad"]
    assert (body["per"], body["sex"], body["age_band"]) == (10000, "female", "16-64")


def test_rates_per_adult_female_describe_the_census_denominator(females: dict[str, dict[str, Any]]) -> None:
    assert "Census 2021" in females["lad"]["denominator_description"]


def test_rates_per_10000_females_16_64_by_district(
    females: dict[str, dict[str, Any]], hub_env: HubEnv, shared_data: Path
) -> None:
    population = _census(shared_data, "female", "16-64")
    counts = _by_period(_monthly(hub_env, "district_code"), "financial_year")
    served = {(r["area_code"], r["period"]): (r["count"], r["rate"]) for r in females["lad"]["rows"]}
    assert served == {
        (code, fy): (n, n / population[code] * 10000) for (code, fy), n in counts.items() if fy == "2024/25"
    }


def test_rates_per_adult_female_use_the_2021_census(females: dict[str, dict[str, Any]]) -> None:
    assert {d["year"] for d in females["lad"]["denominators"]} == {2021}


def test_rates_per_100000_females_16_64_by_district(females: dict[str, dict[str, Any]], shared_data: Path) -> None:
    population = _census(shared_data, "female", "16-64")
    per_100k = females["per_100k"]
    assert [r["rate"] for r in per_100k["rows"]] == [
        r["count"] / population[r["area_code"]] * 100000 for r in per_100k["rows"]
    ]


def test_rates_by_ward_count_the_events(females: dict[str, dict[str, Any]], hub_env: HubEnv) -> None:
    ward_counts = _by_period(_monthly(hub_env, "ward_code"), "financial_year")
    assert {(r["area_code"], r["period"]): r["count"] for r in females["ward"]["rows"]} == {
        key: n for key, n in ward_counts.items() if key[1] == "2024/25"
    }


def test_rates_by_ward_give_no_rate_and_no_population(females: dict[str, dict[str, Any]]) -> None:
    wards = females["ward"]
    assert wards["rows"] and all(r["rate"] is None and r["population"] is None for r in wards["rows"])


def test_rates_by_ward_note_that_there_is_no_denominator(females: dict[str, dict[str, Any]]) -> None:
    assert all(r["note"].startswith("no denominator") for r in females["ward"]["rows"])


def test_rates_by_ward_list_no_denominators(females: dict[str, dict[str, Any]]) -> None:
    assert females["ward"]["denominators"] == []


def test_rates_by_ward_list_every_ward_without_a_denominator(females: dict[str, dict[str, Any]]) -> None:
    wards = females["ward"]
    assert {m["area_code"] for m in wards["no_denominator"]} == {r["area_code"] for r in wards["rows"]}


def test_rates_by_ward_say_that_ward_areas_have_no_denominator(females: dict[str, dict[str, Any]]) -> None:
    assert all("ward areas" in m["reason"] for m in females["ward"]["no_denominator"])


RATES_Q2 = {"dataset": "police-records", "level": "lad", "from": "2024-04", "to": "2024-06"}


@pytest.fixture(scope="module")
def rates_formats(loaded: None, hub_env: HubEnv) -> dict[str, Response]:
    """The exact recipient's rates for 2024-Q2 by district as JSON, CSV and GeoJSON."""
    client = hub_env.api_client(EXACT, "analyst")
    return {
        "json": client.get("/v1/rates", params=RATES_Q2),
        "csv": client.get("/v1/rates", params={**RATES_Q2, "format": "csv"}),
        "geojson": client.get("/v1/rates", params={**RATES_Q2, "format": "geojson"}),
    }


def test_rates_as_csv_are_served_as_csv(rates_formats: dict[str, Response]) -> None:
    as_csv = rates_formats["csv"]
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")


def test_rates_as_csv_carry_the_same_figures(rates_formats: dict[str, Response]) -> None:
    rows = list(csv.DictReader(io.StringIO(rates_formats["csv"].text)))
    assert [(r["area_code"], r["period"], int(r["count"]), float(r["rate"])) for r in rows] == [
        (r["area_code"], r["period"], r["count"], r["rate"]) for r in rates_formats["json"].json()["rows"]
    ]


def test_rates_as_csv_give_the_population_year(rates_formats: dict[str, Response]) -> None:
    rows = list(csv.DictReader(io.StringIO(rates_formats["csv"].text)))
    assert {r["population_year"] for r in rows} == {"2021"}


def test_rates_as_geojson_are_a_feature_collection_per_1000(rates_formats: dict[str, Response]) -> None:
    geo = rates_formats["geojson"].json()
    assert geo["type"] == "FeatureCollection" and geo["per"] == 1000


def test_rates_as_geojson_carry_the_same_figures(rates_formats: dict[str, Response]) -> None:
    geo = rates_formats["geojson"].json()
    assert [f["properties"]["rate"] for f in geo["features"]] == [
        r["rate"] for r in rates_formats["json"].json()["rows"]
    ]


TRENDS_Q2 = {**RATES_Q2, "period": "quarter"}


@pytest.fixture(scope="module")
def trends_formats(loaded: None, hub_env: HubEnv) -> dict[str, Response]:
    """The exact recipient's trends for 2024-Q2 by district as JSON and CSV."""
    client = hub_env.api_client(EXACT, "analyst")
    return {
        "json": client.get("/v1/trends", params=TRENDS_Q2),
        "csv": client.get("/v1/trends", params={**TRENDS_Q2, "format": "csv"}),
    }


def test_trends_as_csv_are_served_as_csv(trends_formats: dict[str, Response]) -> None:
    assert trends_formats["csv"].headers["content-type"].startswith("text/csv")


def test_trends_as_csv_flatten_the_comparisons(trends_formats: dict[str, Response]) -> None:
    rows = list(csv.DictReader(io.StringIO(trends_formats["csv"].text)))
    assert [
        (r["area_code"], r["period"], r["count"], r["year_ago_count"], r["previous_significant"]) for r in rows
    ] == [
        (r["area_code"], r["period"], str(r["count"]), str(r["year_ago"]["count"]), str(r["previous"]["significant"]))
        for r in trends_formats["json"].json()["rows"]
    ]


@pytest.mark.parametrize(
    ("path", "bad"),
    [("/v1/trends", {"period": "all"}), ("/v1/rates", {"per": 500}), ("/v1/rates", {"denominator": "children"})],
    ids=["trends-period-all", "rates-per-500", "rates-children"],
)
def test_bad_rate_and_trend_parameters_are_refused(
    loaded: None, hub_env: HubEnv, path: str, bad: dict[str, Any]
) -> None:
    client = hub_env.api_client(EXACT, "analyst")
    assert client.get(path, params={**TRENDS_Q2, **bad}).status_code == 422


PREVIOUS = {
    "2024-Q2": "2024-Q1",
    "2024-Q3": "2024-Q2",
    "2024-Q4": "2024-Q3",
    "2025-Q1": "2024-Q4",
    "2024/25": "2023/24",
}
YEAR_AGO = {
    "2024-Q2": "2023-Q2",
    "2024-Q3": "2023-Q3",
    "2024-Q4": "2023-Q4",
    "2025-Q1": "2024-Q1",
    "2024/25": "2023/24",
}


class Trends:
    """The exact recipient's trends by district for 2024/25 in quarters or as the financial year, and the counts."""

    def __init__(self, hub_env: HubEnv, kind: str) -> None:
        self.kind = kind
        self.body = _get(hub_env.api_client(EXACT, "analyst"), "/v1/trends", level="lad", period=kind,
                         **{"from": "2024-04", "to": "2025-03"})  # fmt: skip
        self.counts = _by_period(_monthly(hub_env, "district_code"), kind)
        self.periods = QUARTERS if kind == "quarter" else ["2024/25"]

    def changes(self) -> Iterator[tuple[int, int, str, dict[str, Any]]]:
        """(current count, base count, base period, change) of every comparison of every row."""
        for row in self.body["rows"]:
            current = self.counts.get((row["area_code"], row["period"]), 0)
            for name, base_period in (("previous", PREVIOUS[row["period"]]), ("year_ago", YEAR_AGO[row["period"]])):
                yield current, self.counts.get((row["area_code"], base_period), 0), base_period, row[name]


@pytest.fixture(scope="module", params=["quarter", "financial_year"])
def trends(loaded: None, hub_env: HubEnv, request: pytest.FixtureRequest) -> Trends:
    return Trends(hub_env, request.param)


def test_trends_give_the_requested_periods(trends: Trends) -> None:
    assert trends.body["periods"] == trends.periods


def test_trends_compare_released_counts_with_the_exact_conditional_poisson_test(trends: Trends) -> None:
    body = trends.body
    assert "released" in body["basis"] and body["method"] == "exact conditional Poisson test"


def test_trends_have_a_row_where_the_period_or_a_base_has_events(trends: Trends) -> None:
    counts = trends.counts
    areas = {a for a, _ in counts}
    expected_rows = {
        (a, p)
        for a in areas
        for p in trends.periods
        if any(counts.get((a, q), 0) for q in (p, PREVIOUS[p], YEAR_AGO[p]))
    }
    assert {(r["area_code"], r["period"]) for r in trends.body["rows"]} == expected_rows


def test_trends_count_the_events(trends: Trends) -> None:
    for row in trends.body["rows"]:
        assert row["count"] == trends.counts.get((row["area_code"], row["period"]), 0)


def test_trends_give_the_previous_and_year_ago_changes(trends: Trends) -> None:
    for current, base, base_period, change in trends.changes():
        assert (change["period"], change["count"], change["absolute_change"]) == (base_period, base, current - base)


def test_trends_give_the_percent_change_unless_the_base_is_0(trends: Trends) -> None:
    for current, base, _, change in trends.changes():
        assert change["percent_change"] == (None if base == 0 else (current - base) / base * 100)


def test_trends_give_the_exact_p_value(trends: Trends) -> None:
    for current, base, _, change in trends.changes():
        assert change["p_value"] == pytest.approx(_p_value(current, base), rel=1e-9, abs=1e-300)


def test_trends_are_significant_below_p_0_05(trends: Trends) -> None:
    for current, base, _, change in trends.changes():
        assert change["significant"] is (_p_value(current, base) < 0.05)


def test_trends_are_indicative_below_20_events(trends: Trends) -> None:
    for current, base, _, change in trends.changes():
        assert change["indicative"] is (current < 20 or base < 20)


def test_trends_find_the_thinned_year_and_mostly_nothing_quarter_on_quarter(trends: Trends) -> None:
    flags = {change["significant"] for _, _, _, change in trends.changes()}
    assert True in flags and (trends.kind != "quarter" or False in flags)


@pytest.mark.parametrize("district", [EASTBOURNE, HASTINGS])
def test_trends_find_the_doubled_year_a_significant_rise(trends: Trends, district: str) -> None:
    # about twice the events in 2024/25: a real rise
    [row] = [r for r in trends.body["rows"] if r["area_code"] == district and r["period"] == trends.periods[0]]
    assert row["year_ago"]["significant"] is True and row["year_ago"]["percent_change"] > 50


@pytest.fixture(scope="module")
def first_months(loaded: None, hub_env: HubEnv) -> tuple[dict[str, Any], dict[tuple[str, str], int]]:
    """The exact recipient's monthly trends for January and February 2023 (the first months), and the counts."""
    body = _get(hub_env.api_client(EXACT, "analyst"), "/v1/trends", level="lad", period="month",
                **{"from": "2023-01", "to": "2023-02"})  # fmt: skip
    return body, _by_period(_monthly(hub_env, "district_code"), "month")


def test_trends_give_the_first_month_with_data(first_months: tuple[dict[str, Any], dict[tuple[str, str], int]]) -> None:
    assert first_months[0]["first_month"] == "2023-01"


def test_trends_in_the_first_months_count_the_events(
    first_months: tuple[dict[str, Any], dict[tuple[str, str], int]],
) -> None:
    body, counts = first_months
    for row in body["rows"]:
        assert row["count"] == counts.get((row["area_code"], row["period"]), 0)


def test_trends_have_no_base_before_the_first_month_with_data(
    first_months: tuple[dict[str, Any], dict[tuple[str, str], int]],
) -> None:
    for row in first_months[0]["rows"]:
        assert row["year_ago"]["count"] is None and row["year_ago"]["significant"] is None


def test_trends_note_that_a_base_is_before_the_first_month_with_data(
    first_months: tuple[dict[str, Any], dict[tuple[str, str], int]],
) -> None:
    for row in first_months[0]["rows"]:
        assert row["year_ago"]["note"].startswith("before the first month with data")


def test_trends_compare_the_second_month_with_the_first(
    first_months: tuple[dict[str, Any], dict[tuple[str, str], int]],
) -> None:
    body, counts = first_months
    february = [r for r in body["rows"] if r["period"] == "2023-02"]
    assert february and all(r["previous"]["count"] == counts.get((r["area_code"], "2023-01"), 0) for r in february)


NHS_MONTHS = {"from": "2024-04", "to": "2024-09"}


@pytest.fixture(scope="module")
def nhs(loaded: None, hub_env: HubEnv) -> dict[str, dict[str, Any]]:
    """The NHS-rule recipient's rates by ward, rates by district and category, and trends by ward."""
    client = hub_env.api_client(NHS, "analyst")
    return {
        "wards": _get(client, "/v1/rates", level="ward", period="quarter", **NHS_MONTHS),
        "districts": _get(client, "/v1/rates", level="lad", by="category", **NHS_MONTHS),
        "trends": _get(client, "/v1/trends", level="ward", period="quarter", **NHS_MONTHS),
    }


@pytest.mark.parametrize("answer", ["wards", "districts", "trends"])
def test_under_the_nhs_rule_the_default_rule_applies(nhs: dict[str, dict[str, Any]], answer: str) -> None:
    body = nhs[answer]
    assert body["disclosure"]["source"] == "default"
    assert (body["disclosure"]["min_cell_count"], body["disclosure"]["round_to"]) == (8, 5)


def _released(body: dict[str, Any]) -> list[int | None]:
    return [r["count"] for r in body["rows"]] + [u["count"] for u in body["unlocated"]]


RATES_ANSWERS = pytest.mark.parametrize("answer", ["wards", "districts"])


@RATES_ANSWERS
def test_under_the_nhs_rule_no_rate_count_of_1_to_7(nhs: dict[str, dict[str, Any]], answer: str) -> None:
    assert not any(n is not None and 1 <= n <= 7 for n in _released(nhs[answer]))


@RATES_ANSWERS
def test_under_the_nhs_rule_rate_counts_are_rounded_to_5(nhs: dict[str, dict[str, Any]], answer: str) -> None:
    assert all(n is None or n % 5 == 0 for n in _released(nhs[answer]))


@RATES_ANSWERS
def test_under_the_nhs_rule_some_rate_counts_are_suppressed_and_some_shown(
    nhs: dict[str, dict[str, Any]], answer: str
) -> None:
    released = _released(nhs[answer])
    assert None in released and any(released)


@RATES_ANSWERS
def test_under_the_nhs_rule_no_rate_for_a_suppressed_count(nhs: dict[str, dict[str, Any]], answer: str) -> None:
    for row in nhs[answer]["rows"]:
        if row["count"] is None:
            assert row["rate"] is None and row["rate_lower"] is None and "suppressed" in row["note"]


@RATES_ANSWERS
def test_under_the_nhs_rule_rates_are_of_the_released_counts(nhs: dict[str, dict[str, Any]], answer: str) -> None:
    for row in nhs[answer]["rows"]:
        if row["count"] is not None:
            assert row["rate"] == row["count"] / row["population"] * 1000
            assert row["rate_upper"] == pytest.approx(_garwood(row["count"], row["population"], 1000)[1])


def test_under_the_nhs_rule_districts_have_the_census_population(
    nhs: dict[str, dict[str, Any]], shared_data: Path
) -> None:
    persons = _census(shared_data, "persons", "all ages")
    assert all(r["population"] == persons[r["area_code"]] for r in nhs["districts"]["rows"])


def _trend_counts(body: dict[str, Any]) -> list[int | None]:
    shown = [r["count"] for r in body["rows"]]
    return shown + [r[name]["count"] for r in body["rows"] for name in ("previous", "year_ago")]


def test_under_the_nhs_rule_no_trend_count_of_1_to_7(nhs: dict[str, dict[str, Any]]) -> None:
    assert not any(n is not None and 1 <= n <= 7 for n in _trend_counts(nhs["trends"]))


def test_under_the_nhs_rule_some_trend_counts_are_suppressed_and_some_shown(nhs: dict[str, dict[str, Any]]) -> None:
    shown = _trend_counts(nhs["trends"])
    assert None in shown and any(shown)


def _trend_changes(body: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    return ((row, row[name]) for row in body["rows"] for name in ("previous", "year_ago"))


def test_under_the_nhs_rule_no_change_from_a_suppressed_count(nhs: dict[str, dict[str, Any]]) -> None:
    for row, change in _trend_changes(nhs["trends"]):
        if row["count"] is None or change["count"] is None:
            assert change["absolute_change"] is None and change["significant"] is None


def test_under_the_nhs_rule_changes_are_of_the_released_counts(nhs: dict[str, dict[str, Any]]) -> None:
    for row, change in _trend_changes(nhs["trends"]):
        if row["count"] is not None and change["count"] is not None:  # from the released (rounded) counts
            assert change["absolute_change"] == row["count"] - change["count"]
            assert change["p_value"] == pytest.approx(_p_value(row["count"], change["count"]), rel=1e-9)
