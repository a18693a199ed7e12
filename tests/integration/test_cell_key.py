"""The cell key method end to end (docs/protocols.md, "Cell key perturbation"): generated police records for
Eastbourne, published and loaded, released to a recipient whose only clause says `method: cell_key`.

The same cell asked through /v1/counts, /v1/rates, /v1/trends and the OGC items, at ward and district level and
over different months, gets the same released value; every released value is the true count perturbed by the true
cell key (both computed here with SQL over `event`), never 1..js and within D of the truth; and differencing
(January-December minus February-December; a district minus its other wards) gives the hidden January or ward
count back no more often than the table's probabilities allow.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from scipy.stats import binomtest

from api.perturbation_tables import load_table
from sharing_protocols.perturbation import RECORD_KEY_MODULUS, PerturbationTable, key_ranges, perturb
from tests.support.hub import HubEnv, generated_feeds_loaded
from tests.support.open_data import CODEPOINT
from tests.support.protocol_files import protocol_document, with_packaged
from tests.support.reference_data import WARD_LOOKUPS, load_reference

pytestmark = pytest.mark.integration

EASTBOURNE = "E07000061"
RECIPIENT = "cell-key-analysts"
KEYS = {"HUB_LINKAGE_KEY_PERSON": "p" * 48, "HUB_LINKAGE_KEY_RECORD_IDS": "r" * 48}
CLAUSE = "cell-key-police@1#ward-month-perturbed"
TABLE = "hub-cell-key@1"
FROM, TO = "2024-04", "2025-03"
PROTOCOL = protocol_document(
    "cell-key-police",
    "Police records to analysts under the cell key method",
    ["police-records"],
    f"""
data_owners: [{{id: sussex-police, name: Sussex Police, datasets: [police-records]}}]
recipients: [{{id: {RECIPIENT}, name: Analysts, kind: csp}}]
signatories: [{{role: SIRO, organisation: sussex-police}}]
clauses:
  - {{id: ward-month-perturbed, recipients: [{RECIPIENT}], datasets: [police-records],
     fields: [category, period, location], spatial_precision: ward, temporal_precision: month,
     output: aggregates_only, disclosure: {{method: cell_key, table: {TABLE}}}}}
""",
)
DEFAULTS_RECIPIENT = "default-rule-analysts"
DEFAULT_CLAUSE = "cell-key-defaults@1#ward-month-no-block"
# Clauses without a disclosure block: over personal data (police-records) the default is cell key with the hub's
# table; over an aggregate dataset it is the NHS rule. And a public clause under cell key.
DEFAULTS = protocol_document(
    "cell-key-defaults",
    "Clauses without a disclosure block",
    ["police-records", "aggregate-returns"],
    f"""
data_owners: [{{id: sussex-police, name: Sussex Police, datasets: [police-records, aggregate-returns]}}]
recipients: [{{id: {DEFAULTS_RECIPIENT}, name: Analysts, kind: csp}}, {{id: public, name: The public, kind: public}}]
signatories: [{{role: SIRO, organisation: sussex-police}}]
clauses:
  - {{id: ward-month-no-block, recipients: [{DEFAULTS_RECIPIENT}], datasets: [police-records],
     fields: [category, period, location], spatial_precision: ward, temporal_precision: month,
     output: aggregates_only}}
  - {{id: returns-no-block, recipients: [{DEFAULTS_RECIPIENT}], datasets: [aggregate-returns],
     fields: [category, period, location], spatial_precision: district, temporal_precision: month,
     output: aggregates_only}}
  - {{id: public-ward-month-perturbed, recipients: [public], datasets: [police-records],
     fields: [category, period, location], spatial_precision: ward, temporal_precision: month,
     output: aggregates_only, disclosure: {{method: cell_key, table: {TABLE}}}}}
""",
)
PUBLIC_CLAUSE = "cell-key-defaults@1#public-ward-month-perturbed"
Cells = dict[tuple[str, ...], int]


@pytest.fixture(scope="module")
def protocol_paths(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return with_packaged(tmp_path_factory, {"cell-key-police.yaml": PROTOCOL, "cell-key-defaults.yaml": DEFAULTS})


@pytest.fixture(scope="module")
def loaded(hub_env: HubEnv, shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Lookups and postcodes loaded before the worker starts; police records generated, published and loaded."""
    load_reference(hub_env.database_url, lookups=WARD_LOOKUPS, postcodes=CODEPOINT, data=shared_data)
    span = ["--start", "2023-04", "--months", "24", "--rows", "4000", "--district", EASTBOURNE]
    with generated_feeds_loaded(
        hub_env, tmp_path_factory.mktemp("feeds"), {"police-records": ["--seed", "31", *span]}, KEYS
    ):
        yield


@pytest.fixture(scope="module")
def client(loaded: None, hub_env: HubEnv) -> TestClient:
    return hub_env.api_client(RECIPIENT, "analyst")


@pytest.fixture(scope="module")
def table() -> PerturbationTable:
    return load_table(TABLE)


def _get(client: TestClient, path: str, **params: Any) -> dict[str, Any]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _true(
    hub_env: HubEnv, column: str, first: date, last: date, by_category: bool = False
) -> dict[tuple[str, ...], tuple[int, int]]:
    """(true count, cell key) per area (and category) over the months first..last, from `event` itself."""
    category = "category" if by_category else "''"
    rows = hub_env.query(
        f"SELECT {column}, {category}, count(*), sum(record_key) FROM event WHERE dataset = 'police-records' "
        f"AND :clause = ANY(protocols) AND period_month BETWEEN :f AND :l AND {column} IS NOT NULL GROUP BY 1, 2",
        clause=CLAUSE,
        f=first,
        l=last,
    )
    return {
        ((str(r[0]), str(r[1])) if by_category else (str(r[0]),)): (int(r[2]), int(r[3]) % RECORD_KEY_MODULUS)
        for r in rows
    }


def _monthly_truth(hub_env: HubEnv, column: str) -> dict[tuple[str, ...], tuple[int, int]]:
    rows = hub_env.query(
        f"SELECT {column}, period_month, count(*), sum(record_key) FROM event WHERE dataset = 'police-records' "
        f"AND :clause = ANY(protocols) AND {column} IS NOT NULL GROUP BY 1, 2",
        clause=CLAUSE,
    )
    return {(str(r[0]), f"{r[1]:%Y-%m}"): (int(r[2]), int(r[3]) % RECORD_KEY_MODULUS) for r in rows}


def _cells(body: dict[str, Any], *dims: str) -> Cells:
    return {tuple(str(row[d]) for d in dims): row["count"] for row in body["rows"]}


# --- the rule is reported --------------------------------------------------------------------------------------


def test_the_response_says_the_cell_key_method_produced_the_figures(client: TestClient) -> None:
    body = _get(client, "/v1/counts", dataset="police-records", level="ward", **{"from": FROM, "to": TO})
    disclosure = body["disclosure"]
    assert (disclosure["method"], disclosure["table"], disclosure["version"]) == ("cell_key", "hub-cell-key", 1)
    assert (disclosure["min_cell_count"], disclosure["round_to"], disclosure["suppressed"]) == (None, None, 0)
    assert disclosure["clauses"] == [CLAUSE] and "sums of the perturbed counts" in disclosure["rule"]
    rows = [row["count"] for row in body["rows"]]
    assert body["totals"]["overall"] == sum(rows), "the total is the sum of the perturbed cells"
    for area, total in body["totals"]["area"].items():
        assert total == sum(row["count"] for row in body["rows"] if row["area_code"] == area)


def test_an_aggregates_only_clause_over_personal_data_without_a_block_gets_cell_key_by_default(
    loaded: None, hub_env: HubEnv, client: TestClient
) -> None:
    defaults = hub_env.api_client(DEFAULTS_RECIPIENT, "analyst")
    body = _get(defaults, "/v1/counts", dataset="police-records", level="ward", **{"from": FROM, "to": TO})
    disclosure = body["disclosure"]
    assert (disclosure["method"], disclosure["table"], disclosure["version"]) == ("cell_key", "hub-cell-key", 1)
    assert disclosure["clauses"] == [DEFAULT_CLAUSE] and disclosure["suppressed"] == 0
    # Both clauses release every police record, so the same cells get the same perturbed figures.
    stated = _get(client, "/v1/counts", dataset="police-records", level="ward", **{"from": FROM, "to": TO})
    cells = _cells(body, "area_code", "period")
    assert cells and cells == _cells(stated, "area_code", "period")


def test_the_same_clause_over_an_aggregate_dataset_keeps_the_nhs_rule(loaded: None, hub_env: HubEnv) -> None:
    defaults = hub_env.api_client(DEFAULTS_RECIPIENT, "analyst")
    body = _get(defaults, "/v1/counts", dataset="aggregate-returns", level="lad", **{"from": FROM, "to": TO})
    disclosure = body["disclosure"]
    assert (disclosure["method"], disclosure["table"], disclosure["source"]) == ("threshold", None, "default")
    assert (disclosure["min_cell_count"], disclosure["round_to"]) == (8, 5)


def test_the_ig_register_states_the_default_rule_in_plain_words(loaded: None, hub_env: HubEnv) -> None:
    operator = hub_env.api_client("hub", "ig_lead")
    response = operator.get("/v1/ig/protocols")
    assert response.status_code == 200, response.text
    (protocol,) = [p for p in response.json() if p["label"] == "cell-key-defaults@1"]
    rules = {c["id"]: (c["disclosure"], c["rule"]) for c in protocol["clauses"] if c["id"].endswith("no-block")}
    assert rules == {
        "ward-month-no-block": (
            None,
            "cell key perturbation, table hub-cell-key@1 (the default for aggregates-only clauses over personal data)",
        ),
        "returns-no-block": (None, "1-7 suppressed, rounded to 5 (the NHS rule, the default)"),
    }


# --- the public gets the cell key method too, with the same figures ---------------------------------------------


def test_the_public_gets_the_same_perturbed_cells_as_a_keyed_caller_on_every_public_route(
    loaded: None, hub_env: HubEnv, client: TestClient, table: PerturbationTable
) -> None:
    params = {"dataset": "police-records", "level": "ward", "from": FROM, "to": TO}
    keyed = _cells(_get(client, "/v1/counts", **params), "area_code", "period")
    anyone = hub_env.client({})
    public_body = _get(anyone, "/v1/public/counts", **params)
    disclosure = public_body["disclosure"]
    assert (disclosure["method"], disclosure["table"], disclosure["version"]) == ("cell_key", "hub-cell-key", 1)
    assert (disclosure["clauses"], disclosure["suppressed"]) == ([PUBLIC_CLAUSE], 0)
    public = _cells(public_body, "area_code", "period")
    # Both clauses release every police record (neither has a scope): the same events, the same cells.
    assert public and public == keyed
    truth = _monthly_truth(hub_env, "ward_code")
    for key, shown in public.items():
        count, _ = truth.get(key, (0, 0))
        assert count != 0 or shown == 0, "zero stays zero"
        assert shown is not None and not 1 <= shown <= table.small_count_threshold, (key, shown)
    without_key = _cells(_get(anyone, "/v1/counts", **params), "area_code", "period")
    assert without_key == public
    features = anyone.get("/collections/police-records-ward-monthly/items", params={"limit": 10000})
    assert features.status_code == 200, features.text
    ogc = {
        (f["properties"]["area_code"], f["properties"]["month"]): f["properties"]["count"]
        for f in features.json()["features"]
    }
    shared = set(ogc) & set(public)
    assert shared and all(ogc[key] == public[key] for key in shared)
    listed = anyone.get("/v1/public/datasets").json()
    (entry,) = [d for d in listed if (d["dataset"], d["level"]) == ("police-records", "ward")]
    assert (entry["disclosure"]["method"], entry["disclosure"]["table"]) == ("cell_key", "hub-cell-key")
    assert entry["disclosure"]["min_cell_count"] is None


# --- every released value is the truth perturbed by the true cell key -------------------------------------------


@pytest.mark.parametrize(("level", "column"), [("ward", "ward_code"), ("lad", "district_code")])
def test_each_released_monthly_cell_is_the_true_count_perturbed_by_its_true_key(
    client: TestClient, hub_env: HubEnv, table: PerturbationTable, level: str, column: str
) -> None:
    truth = _monthly_truth(hub_env, column)
    body = _get(client, "/v1/counts", dataset="police-records", level=level, **{"from": FROM, "to": TO})
    released = _cells(body, "area_code", "period")
    asked = {key for key in truth if FROM <= key[1] <= TO}
    assert {key for key in asked if truth[key][0]} <= set(released)
    for key, shown in released.items():
        count, cell_key = truth.get(key, (0, 0))
        assert shown == perturb(count, cell_key, table), key
        assert shown is not None and not 1 <= shown <= table.small_count_threshold
        assert abs(shown - count) <= table.maximum_perturbation
        assert count != 0 or shown == 0, "zero stays zero"
    differs = sum(1 for key in asked if released.get(key) != truth[key][0])
    assert differs > 0, "the figures are perturbed, not exact"


# --- the same cell gets the same figure on every endpoint and in every query ----------------------------------


def test_the_same_cell_gets_the_same_figure_from_counts_rates_trends_and_the_ogc_items(client: TestClient) -> None:
    year = _cells(
        _get(client, "/v1/counts", dataset="police-records", level="ward", **{"from": FROM, "to": TO}),
        "area_code",
        "period",
    )
    one_month = _cells(
        _get(client, "/v1/counts", dataset="police-records", level="ward", **{"from": "2024-09", "to": "2024-09"}),
        "area_code",
        "period",
    )
    within = _cells(
        _get(
            client,
            "/v1/counts",
            dataset="police-records",
            level="ward",
            area=EASTBOURNE,
            area_level="lad",
            **{"from": "2024-06", "to": "2024-11"},
        ),
        "area_code",
        "period",
    )
    rates_body = _get(client, "/v1/rates", dataset="police-records", level="ward", **{"from": FROM, "to": TO})
    assert "perturbed by the cell key method" in rates_body["basis"]
    assert rates_body["disclosure"]["method"] == "cell_key"
    rates = _cells(rates_body, "area_code", "period")
    trends = _cells(
        _get(client, "/v1/trends", dataset="police-records", level="ward", period="month", **{"from": FROM, "to": TO}),
        "area_code",
        "period",
    )
    features = client.get("/collections/police-records-ward-monthly/items", params={"limit": 10000})
    assert features.status_code == 200, features.text
    ogc = {
        (f["properties"]["area_code"], f["properties"]["month"]): f["properties"]["count"]
        for f in features.json()["features"]
    }
    assert one_month and within and ogc
    for answer in (one_month, within, rates, trends, {k: v for k, v in ogc.items() if FROM <= k[1] <= TO}):
        shared = set(answer) & set(year)
        assert shared and all(answer[key] == year[key] for key in shared)
    assert set(one_month) <= set(year) and set(within) <= set(year)


def test_the_same_district_cell_gets_the_same_figure_from_counts_and_trends(client: TestClient) -> None:
    counts = _cells(
        _get(client, "/v1/counts", dataset="police-records", level="lad", period="quarter", **{"from": FROM, "to": TO}),
        "area_code",
        "period",
    )
    trends = _cells(
        _get(client, "/v1/trends", dataset="police-records", level="lad", period="quarter", **{"from": FROM, "to": TO}),
        "area_code",
        "period",
    )
    # /v1/trends leaves out a row whose count and both bases are 0; such a cell is 0 in /v1/counts too.
    assert counts and counts == {key: trends.get(key, 0) for key in counts}
    assert set(trends) <= set(counts) | {key for key, value in trends.items() if value == 0}


# --- significance and hot spots carry the perturbation's variance ---------------------------------------------


def _expected_p(current: int, base: int, variance: float) -> float:
    """The two-sided p-value of equal rates with variance V on each count, computed here without the hub's code:
    the continuity-corrected normal tail of the difference (variance a + b + 2V), never below the exact test."""
    exact = binomtest(current, current + base, 0.5).pvalue if current + base else 1.0
    z = max(abs(current - base) - 1, 0) / math.sqrt(current + base + 2 * variance)
    return max(float(exact), math.erfc(z / math.sqrt(2)))


def test_trend_significance_adds_the_perturbation_variance(client: TestClient, table: PerturbationTable) -> None:
    body = _get(
        client, "/v1/trends", dataset="police-records", level="ward", period="quarter", **{"from": FROM, "to": TO}
    )
    assert "a + b + 2V" in body["method"] and f"variance V = {table.variance:g}" in body["basis"]
    tested = 0
    for row in body["rows"]:
        for name in ("previous", "year_ago"):
            comparison = row[name]
            if comparison["p_value"] is None:
                continue
            expected = _expected_p(row["count"], comparison["count"], table.variance)
            assert comparison["p_value"] == pytest.approx(expected, rel=1e-9, abs=1e-12), (row, name)
            assert comparison["significant"] == (expected < body["alpha"])
            tested += 1
    assert tested > 20


def test_hot_spots_say_the_counts_carry_the_perturbation_variance(client: TestClient, table: PerturbationTable) -> None:
    response = client.get(
        "/v1/hotspots",
        params={
            "dataset": "police-records",
            "level": "ward",
            "area": EASTBOURNE,
            "area_level": "lad",
            "from": FROM,
            "to": TO,
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["disclosure"]["method"] == "cell_key"
    assert f"variance V = {table.variance:g}" in body["method"]["counts"]


# --- differencing ---------------------------------------------------------------------------------------------


def _exact_probability(table: PerturbationTable, first: int, second: int) -> float:
    """The chance that two cells of these true counts, with independent uniform keys, get equal perturbations
    (their difference is then the true difference): sum over p of P(first's p) x P(second's p)."""
    one = {e.p: e.probability for e in table.row(first).perturbations}
    return sum(e.probability * one.get(e.p, 0.0) for e in table.row(second).perturbations)


def _key_share(table: PerturbationTable, count: int) -> float:
    """The largest share of the cell keys any one perturbation takes in a count's row."""
    return max((end - start) / RECORD_KEY_MODULUS for _, start, end in key_ranges(table.row(count)))


def _bound(expected: list[float]) -> float:
    """The expected number of exact differences plus 3 standard deviations (independent cells)."""
    return sum(expected) + 3 * math.sqrt(sum(p * (1 - p) for p in expected))


def test_a_year_minus_its_last_eleven_months_rarely_gives_the_first_month_back(
    client: TestClient, hub_env: HubEnv, table: PerturbationTable
) -> None:
    def asked(start: str) -> Cells:
        body = _get(
            client,
            "/v1/counts",
            dataset="police-records",
            level="ward",
            period="all",
            by="category",
            **{"from": start, "to": "2024-12"},
        )
        return _cells(body, "area_code", "category")

    whole, rest = asked("2024-01"), asked("2024-02")
    january = _true(hub_env, "ward_code", date(2024, 1, 1), date(2024, 1, 1), by_category=True)
    year = _true(hub_env, "ward_code", date(2024, 1, 1), date(2024, 12, 1), by_category=True)
    hidden = {key: n for key, (n, _) in january.items() if 1 <= n <= 7}  # small January counts to be hidden
    assert len(hidden) >= 30, "enough small cells to judge"
    recovered = sum(1 for key, n in hidden.items() if whole.get(key, 0) - rest.get(key, 0) == n)
    # Expected: each cell's chance that both figures get the same perturbation (their keys differ by January's
    # key, which is uniform and independent of the rest, so the keys are independent).
    expected = [_exact_probability(table, year[key][0], year[key][0] - n) for key, n in hidden.items()]
    assert recovered <= _bound(expected), (recovered, len(hidden), sum(expected))
    assert recovered < len(hidden) / 2, "most small January counts are not given back"


def test_a_district_minus_its_other_wards_rarely_gives_the_ward_back(
    client: TestClient, hub_env: HubEnv, table: PerturbationTable
) -> None:
    period = {"from": "2024-01", "to": "2024-12", "period": "month", "by": "category"}
    district = _cells(
        _get(client, "/v1/counts", dataset="police-records", level="lad", **period), "area_code", "category", "period"
    )
    wards = _cells(
        _get(client, "/v1/counts", dataset="police-records", level="ward", **period), "area_code", "category", "period"
    )
    truth = hub_env.query(
        "SELECT ward_code, category, period_month, count(*) FROM event WHERE dataset = 'police-records' "
        "AND :clause = ANY(protocols) AND district_code = :d AND ward_code IS NOT NULL "
        "AND period_month BETWEEN '2024-01-01' AND '2024-12-01' GROUP BY 1, 2, 3",
        clause=CLAUSE,
        d=EASTBOURNE,
    )
    true_wards = {(str(r[0]), str(r[1]), f"{r[2]:%Y-%m}"): int(r[3]) for r in truth}
    whole = {
        (str(r[0]), f"{r[1]:%Y-%m}"): int(r[2])
        for r in hub_env.query(
            "SELECT category, period_month, count(*) FROM event WHERE dataset = 'police-records' "
            "AND :clause = ANY(protocols) AND district_code = :d GROUP BY 1, 2",
            clause=CLAUSE,
            d=EASTBOURNE,
        )
    }
    tried, recovered, shares = 0, 0, []
    for (ward, category, month), n in true_wards.items():
        if not 1 <= n <= 7:
            continue
        others = sum(v or 0 for (w, c, p), v in wards.items() if (c, p) == (category, month) and w != ward)
        tried += 1
        recovered += district.get((EASTBOURNE, category, month), 0) - others == n
        # The district's key is independent of the other wards' (it holds the ward's own, uniform, keys): the
        # chance of an exact difference is at most the largest share of keys one perturbation takes in its row.
        shares.append(_key_share(table, whole[(category, month)]))
    assert tried >= 30, "enough small ward cells to judge"
    assert recovered <= _bound(shares), (recovered, tried, sum(shares))
    assert recovered < tried / 2, "most small ward counts are not given back"
