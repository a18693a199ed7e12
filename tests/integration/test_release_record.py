"""The release record, its IG view and the differencing guard, end to end: generated MARAC cases, published and
loaded, asked for by three analyst organisations under an exact-above-threshold clause (5 / 1, so that a
subtraction gives a count exactly).

Each attack has its own organisation, so that each starts with nothing released to it. Expectations come from
`SELECT ... FROM event`, not from the hub's queries.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.ward_parents import WardParents
from tests.support.hub import HubEnv, generated_feeds_loaded
from tests.support.open_data import CODEPOINT
from tests.support.protocol_files import protocol_document, with_packaged
from tests.support.reference_data import WARD_LOOKUPS, load_reference
from warehouse.queries.aggregates import Level
from warehouse.reference.indicator_registry import load_directory
from warehouse.reference.indicator_store import load_indicators
from warehouse.schema.db import session_scope

pytestmark = pytest.mark.integration

KEYS = {"HUB_LINKAGE_KEY_PERSON": "p" * 48, "HUB_LINKAGE_KEY_RECORD_IDS": "r" * 48}
EASTBOURNE = "E07000061"
RECORDED, BY_PERIOD, BY_CATEGORY = "release-recorded", "release-periods", "release-categories"
BY_RATE, BY_TREND, EVERY_ENDPOINT = "release-rates", "release-trends", "release-endpoints"
BY_SCORECARD, REPEATED = "release-scorecard", "release-repeated"
EASTBOURNE_CSP = "E22000295"  # the one district
MINIMUM = 5
MARAC_FIELDS = "[category, period, location, marac_area, victim_pseudonym, perpetrator_pseudonym, information_only]"
PROTOCOL = protocol_document(
    "marac-release",
    "MARAC counts for the release-record tests",
    ["marac-cases"],
    f"""
data_owners: [{{id: east-sussex-marac, name: East Sussex MARAC, datasets: [marac-cases]}}]
recipients:
  - {{id: {RECORDED}, name: Analysts A, kind: csp}}
  - {{id: {BY_PERIOD}, name: Analysts B, kind: csp}}
  - {{id: {BY_CATEGORY}, name: Analysts C, kind: csp}}
  - {{id: {BY_RATE}, name: Analysts D, kind: csp}}
  - {{id: {BY_TREND}, name: Analysts E, kind: csp}}
  - {{id: {EVERY_ENDPOINT}, name: Analysts F, kind: csp}}
  - {{id: {BY_SCORECARD}, name: Analysts G, kind: csp}}
  - {{id: {REPEATED}, name: Analysts H, kind: csp}}
signatories: [{{role: SIRO, organisation: east-sussex-marac}}]
clauses:
  - {{id: counts, recipients: [{RECORDED}, {BY_PERIOD}, {BY_CATEGORY}, {BY_RATE}, {BY_TREND}, {EVERY_ENDPOINT},
                              {BY_SCORECARD}, {REPEATED}],
     datasets: [marac-cases],
     fields: {MARAC_FIELDS}, spatial_precision: district, temporal_precision: day, output: aggregates_only,
     pseudonym_linkage: true, disclosure: {{min_cell_count: {MINIMUM}, round_to: 1}}}}
""",
)


@pytest.fixture(scope="module")
def protocol_paths(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return with_packaged(tmp_path_factory, {"marac-release.yaml": PROTOCOL})


@pytest.fixture(scope="module")
def loaded(hub_env: HubEnv, shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Lookups and postcodes loaded; 24 months of Eastbourne MARAC cases generated, published and loaded."""
    load_reference(hub_env.database_url, lookups=WARD_LOOKUPS, postcodes=CODEPOINT, data=shared_data)
    options = ["--seed", "13", "--rows", "400", "--district", EASTBOURNE, "--start", "2023-07", "--months", "24"]
    with generated_feeds_loaded(hub_env, tmp_path_factory.mktemp("feeds"), {"marac-cases": options}, KEYS):
        yield


@pytest.fixture(scope="module")
def true_counts(loaded: None, hub_env: HubEnv) -> Counter[tuple[str, str]]:
    """Eastbourne's MARAC cases per (category, month), from the events."""
    rows = hub_env.query(
        "SELECT category, period_month FROM event WHERE dataset = 'marac-cases' AND district_code = :d", d=EASTBOURNE
    )
    return Counter((str(r[0]), f"{r[1]:%Y-%m}") for r in rows)


def _month(year: int, month: int) -> str:
    return f"{year + (month - 1) // 12}-{(month - 1) % 12 + 1:02d}"


def _counts(client: TestClient, **params: Any) -> dict[str, Any]:
    query = {"dataset": "marac-cases", "level": "lad", "area": EASTBOURNE, **params}
    response = client.get("/v1/counts", params=query)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _only(body: dict[str, Any]) -> int | None:
    """The one cell of an answer (0 when there are none)."""
    assert len(body["rows"]) <= 1
    return body["rows"][0]["count"] if body["rows"] else 0


# --- the release record and its IG view ---------------------------------------------------------------------------

FROM, TO = "2024-07", "2024-12"


@pytest.fixture(scope="module")
def recorded(loaded: None, hub_env: HubEnv) -> dict[str, Any]:
    """One answer by category and month to RECORDED."""
    client = hub_env.api_client(RECORDED, "analyst")
    return _counts(client, **{"from": FROM, "to": TO, "by": "category", "period": "month"})


def _record(hub_env: HubEnv, org: str) -> list[tuple[Any, ...]]:
    return hub_env.query(
        "SELECT areas, categories, first_month, last_month, value, min_cell_count, round_to, clauses "
        "FROM released_figure WHERE org = :o ORDER BY id",
        o=org,
    )


def test_every_cell_of_an_answer_is_recorded_with_the_value_shown_and_the_rule(
    recorded: dict[str, Any], hub_env: HubEnv, true_counts: Counter[tuple[str, str]]
) -> None:
    rows = _record(hub_env, RECORDED)
    cells = {(r[1][0], f"{r[2]:%Y-%m}"): r[4] for r in rows if r[1] is not None and len(r[1]) == 1 and r[2] == r[3]}
    shown = {(r["category"], r["period"]): r["count"] for r in recorded["rows"]}
    assert cells == shown
    assert any(v is None for v in cells.values()) and any(v is not None for v in cells.values())
    for (category, month), value in cells.items():  # the rule is 5 / 1: shown cells are exact, others 1-4 or more
        true = true_counts[(category, month)]
        assert value == true if value is not None else true >= 1
    assert {(r[5], r[6], tuple(r[7])) for r in rows} == {(MINIMUM, 1, ("marac-release@1#counts",))}
    assert {tuple(r[0]) for r in rows} == {(EASTBOURNE,)}
    overall = [r for r in rows if r[1] is None and f"{r[2]:%Y-%m}" == FROM and f"{r[3]:%Y-%m}" == TO]
    # the grand total (and the margin of the one area, which counts the same): every category, all months
    assert {r[4] for r in overall} == {recorded["totals"]["overall"]}


def test_the_app_keeps_the_wards_making_each_district_and_csp(recorded: dict[str, Any], hub_env: HubEnv) -> None:
    # read when the first answer above ward level was guarded (`recorded`, by district), kept for the app's life
    rows = hub_env.query(
        "SELECT code FROM area WHERE level = 'ward' AND vintage = :v AND properties->>'lad_code' = :d",
        v=hub_env.geography.ward_vintage,
        d=EASTBOURNE,
    )
    wards = frozenset(str(r[0]) for r in rows)
    assert len(wards) >= 5
    kept: WardParents = hub_env.app.state.ward_parents
    assert kept.making(Level.lad, [EASTBOURNE, "E07999999"]) == {EASTBOURNE: wards}  # an unknown code is missing
    assert kept.making(Level.csp, [EASTBOURNE_CSP]) == {EASTBOURNE_CSP: wards}  # the one district
    assert kept.making(Level.ward, ["E05000001"]) == {"E05000001": frozenset({"E05000001"})}


def test_the_ig_lead_lists_what_was_released_and_exports_it(recorded: dict[str, Any], hub_env: HubEnv) -> None:
    lead = hub_env.api_client(RECORDED, "ig_lead")
    response = lead.get("/v1/ig/releases")
    assert response.status_code == 200, response.text
    body = response.json()
    rows = _record(hub_env, RECORDED)
    suppressed = sum(1 for r in rows if r[4] is None)
    assert body["summary"] == [
        {
            "org": RECORDED,
            "dataset": "marac-cases",
            "level": "lad",
            "figures": len(rows),
            "shown": len(rows) - suppressed,
            "suppressed": suppressed,
        }
    ]
    assert [f["value"] for f in body["figures"]] == [r[4] for r in rows]
    exported = lead.get("/v1/ig/releases", params={"format": "csv", "org": RECORDED})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    records = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(records) == len(rows)
    assert sum(1 for r in records if r["value"] == "") == suppressed
    assert {r["areas"] for r in records} == {EASTBOURNE}
    today = date.today().isoformat()
    assert lead.get("/v1/ig/releases", params={"from": "2000-01-01", "to": "2000-12-31"}).json()["figures"] == []
    assert len(lead.get("/v1/ig/releases", params={"from": today, "to": today}).json()["figures"]) == len(rows)


def test_an_answer_asked_again_is_recorded_as_the_first_again_and_listed_with_the_same_figures(
    loaded: None, hub_env: HubEnv
) -> None:
    client = hub_env.api_client(REPEATED, "analyst")
    query = {"from": FROM, "to": TO, "by": "category", "period": "month"}
    first = _counts(client, **query)
    again = _counts(client, **query)
    assert (again["rows"], again["totals"], again["disclosure"]) == (
        first["rows"],
        first["totals"],
        first["disclosure"],
    )
    asked = hub_env.query(
        "SELECT id, at FROM access_log WHERE org = :o AND endpoint = '/v1/counts' ORDER BY id", o=REPEATED
    )
    assert len(asked) == 2
    # written once, then one row: the figures of the first access again
    rows = _record(hub_env, REPEATED)
    assert len(rows) > 10
    repeats = hub_env.query("SELECT access_id, of_access_id FROM released_again WHERE org = :o", o=REPEATED)
    assert repeats == [(asked[1][0], asked[0][0])]
    # the IG lead's view and export list the second answer's figures as the first's, at its own time
    lead = hub_env.api_client(REPEATED, "ig_lead")
    body = lead.get("/v1/ig/releases").json()
    listed = body["figures"]
    assert len(listed) == 2 * len(rows) and body["summary"][0]["figures"] == 2 * len(rows)
    once, twice = listed[: len(rows)], listed[len(rows) :]
    assert [f["value"] for f in once] == [r[4] for r in rows]
    assert [{**f, "at": None} for f in twice] == [{**f, "at": None} for f in once]
    assert {datetime.fromisoformat(f["at"]) for f in once} == {asked[0][1]}
    assert {datetime.fromisoformat(f["at"]) for f in twice} == {asked[1][1]}
    exported = list(
        csv.DictReader(io.StringIO(lead.get("/v1/ig/releases", params={"format": "csv", "org": REPEATED}).text))
    )
    assert len(exported) == 2 * len(rows)
    assert [{**r, "at": ""} for r in exported[len(rows) :]] == [{**r, "at": ""} for r in exported[: len(rows)]]


def test_an_analyst_and_another_organisations_ig_lead_are_refused_and_logged(
    recorded: dict[str, Any], hub_env: HubEnv
) -> None:
    analyst = hub_env.api_client(RECORDED, "analyst").get("/v1/ig/releases")
    other = hub_env.api_client(BY_PERIOD, "ig_lead").get("/v1/ig/releases", params={"org": RECORDED})
    assert (analyst.status_code, other.status_code) == (403, 403)
    logged = hub_env.query(
        "SELECT org, role, status FROM access_log WHERE endpoint = '/v1/ig/releases' AND status = 403 ORDER BY id"
    )
    assert logged == [(RECORDED, "analyst", 403), (BY_PERIOD, "ig_lead", 403)]


# --- the differencing guard -------------------------------------------------------------------------------------


def _window(true_counts: Counter[tuple[str, str]], category: str) -> tuple[str, str, str, int]:
    """A year (first month, second month, last month) whose first month's count is 1-4 and which with and without
    that month counts at least MINIMUM: the span minus the span less a month would give a suppressed count."""
    for start in range(24):
        months = [_month(2023, 7 + start + i) for i in range(12)]
        first = true_counts[(category, months[0])]
        rest = sum(true_counts[(category, m)] for m in months[1:])
        if 1 <= first < MINIMUM and rest >= MINIMUM:
            return months[0], months[1], months[-1], first
    raise AssertionError("the generated cases have no year to attack")


def test_a_year_minus_the_year_less_its_first_month_recovers_no_suppressed_count(
    loaded: None, hub_env: HubEnv, true_counts: Counter[tuple[str, str]]
) -> None:
    first, second, last, hidden = _window(true_counts, "information-only")
    client = hub_env.api_client(BY_PERIOD, "analyst")
    ask = {"category": "information-only", "period": "all"}
    alone = _counts(client, **ask, **{"from": first, "to": first})
    assert _only(alone) is None  # the month on its own is suppressed
    year = _counts(client, **ask, **{"from": first, "to": last})
    less = _counts(client, **ask, **{"from": second, "to": last})
    recovered = None if None in (_only(year), _only(less)) else int(_only(year) or 0) - int(_only(less) or 0)
    assert recovered != hidden
    assert less["disclosure"]["withheld"] and "exactly" in less["disclosure"]["withheld"][0]


def test_all_categories_minus_the_others_recovers_no_suppressed_category(
    loaded: None, hub_env: HubEnv, true_counts: Counter[tuple[str, str]]
) -> None:
    months = sorted({m for _, m in true_counts})
    month = next(
        m
        for m in months
        if 1 <= true_counts[("information-only", m)] < MINIMUM and true_counts[("referral", m)] >= MINIMUM
    )
    hidden = true_counts[("information-only", month)]
    client = hub_env.api_client(BY_CATEGORY, "analyst")
    one_month = {"from": month, "to": month}
    split = _counts(client, by="category", **one_month)
    assert {r["category"]: r["count"] for r in split["rows"]}.get("information-only") is None
    referral = _counts(client, category="referral", **one_month)
    every = _counts(client, **one_month)
    shown = [_only(referral), _only(every)]
    recovered = None if None in shown else int(shown[1] or 0) - int(shown[0] or 0)
    assert recovered != hidden
    assert (referral["disclosure"]["withheld"] or every["disclosure"]["withheld"]) != []


# --- the guard across endpoints: rates, trends and OGC items are recorded and guarded as /v1/counts ------------


def _get(client: TestClient, path: str, **params: Any) -> dict[str, Any]:
    query = {"dataset": "marac-cases", "level": "lad", "area": EASTBOURNE, **params}
    response = client.get(path, params=query)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_counts_for_a_year_then_rates_for_the_year_less_its_first_month_recover_no_suppressed_count(
    loaded: None, hub_env: HubEnv, true_counts: Counter[tuple[str, str]]
) -> None:
    first, second, last, hidden = _window(true_counts, "information-only")
    client = hub_env.api_client(BY_RATE, "analyst")
    ask = {"category": "information-only", "period": "all"}
    year = _only(_counts(client, **ask, **{"from": first, "to": last}))
    assert year is not None and year >= MINIMUM
    rates = _get(client, "/v1/rates", **ask, **{"from": second, "to": last})
    [row] = rates["rows"]
    assert row["count"] is None or year - row["count"] != hidden
    assert row["count"] is None and row["rate"] is None  # the rate of a withheld count is not shown either
    [reason] = rates["disclosure"]["withheld"]
    assert "information-only" in reason and "exactly" in reason
    assert rates["disclosure"]["suppressed"] >= 1


def _quarters(true_counts: Counter[tuple[str, str]], category: str) -> tuple[str, str, str, int]:
    """Calendar quarters (first month of the first, of the second, last month of the last; consecutive) where the
    first's count is 1-4 and every later one's at least MINIMUM: the span minus the quarterly counts after its
    first quarter (each shown by trends) would give the first."""
    starts = [_month(2023, 7 + 3 * i) for i in range(8)]
    count = [sum(true_counts[(category, _month(int(q[:4]), int(q[5:]) + k))] for k in range(3)) for q in starts]
    for i in range(len(starts) - 1):
        j = i + 1
        while j < len(starts) and count[j] >= MINIMUM:
            j += 1
        if 1 <= count[i] < MINIMUM and j > i + 1:
            last = starts[j - 1]
            return starts[i], starts[i + 1], _month(int(last[:4]), int(last[5:]) + 2), count[i]
    raise AssertionError("the generated cases have no run of quarters to attack")


def test_counts_for_a_span_then_trends_for_the_span_less_its_first_quarter_recover_no_suppressed_count(
    loaded: None, hub_env: HubEnv, true_counts: Counter[tuple[str, str]]
) -> None:
    category = "information-only"
    first, second, last, hidden = _quarters(true_counts, category)
    client = hub_env.api_client(BY_TREND, "analyst")
    span = _only(_counts(client, category=category, period="all", **{"from": first, "to": last}))
    assert span is not None and span >= MINIMUM
    trends = _get(client, "/v1/trends", category=category, period="quarter", **{"from": second, "to": last})
    shown = [r["count"] for r in trends["rows"]]
    assert len(shown) == len(trends["periods"]) >= 1
    recovered = None if None in shown else span - sum(shown)
    assert recovered != hidden


def test_the_release_record_lists_the_figures_of_every_endpoint(loaded: None, hub_env: HubEnv) -> None:
    client = hub_env.api_client(EVERY_ENDPOINT, "analyst")
    window = {"from": "2024-07", "to": "2024-12"}
    counts = _get(client, "/v1/counts", period="all", **window)
    rates = _get(client, "/v1/rates", period="quarter", **window)
    trends = _get(client, "/v1/trends", period="quarter", **window)
    response = client.get("/collections/marac-cases-lad-monthly/items", params={"limit": 5})
    assert response.status_code == 200, response.text
    items = response.json()
    recorded = hub_env.query(
        "SELECT a.endpoint, f.first_month, f.last_month, f.areas, f.categories, f.value FROM released_figure f "
        "JOIN access_log a ON a.id = f.access_id WHERE f.org = :o ORDER BY f.id",
        o=EVERY_ENDPOINT,
    )
    by_endpoint: dict[str, list[tuple[str, str, int | None]]] = {}
    for endpoint, first, last, areas, categories, value in recorded:
        assert categories is None
        if tuple(areas) != (EASTBOURNE,):
            assert endpoint.startswith("/collections/")  # every district of the collection
            continue
        by_endpoint.setdefault(endpoint, []).append((f"{first:%Y-%m}", f"{last:%Y-%m}", value))
    assert set(by_endpoint) == {"/v1/counts", "/v1/rates", "/v1/trends", "/collections/marac-cases-lad-monthly/items"}
    assert ("2024-07", "2024-12", counts["totals"]["overall"]) in by_endpoint["/v1/counts"]
    quarters = {("2024-07", "2024-09"), ("2024-10", "2024-12")}
    assert {(f, l_) for f, l_, _ in by_endpoint["/v1/rates"]} == quarters  # its rows: no margins shown, none kept
    assert [v for *_, v in by_endpoint["/v1/rates"]] == [r["count"] for r in rates["rows"]]
    # trends show each quarter's count and those of the quarters they compare with (a year before, the previous)
    trend_spans = {(f, l_): v for f, l_, v in by_endpoint["/v1/trends"]}
    assert quarters <= set(trend_spans) and {("2023-07", "2023-09"), ("2023-10", "2023-12")} <= set(trend_spans)
    assert {r["period"]: r["count"] for r in trends["rows"]} == {
        p: trend_spans[(f, l_)] for p, (f, l_) in zip(trends["periods"], sorted(quarters), strict=True)
    }
    # OGC items: every feature's monthly count, the same on every page, one month each
    features = {
        f["properties"]["month"]: f["properties"]["count"]
        for f in items["features"]
        if f["properties"]["area_code"] == EASTBOURNE
    }
    ogc = {f: v for f, l_, v in by_endpoint["/collections/marac-cases-lad-monthly/items"] if f == l_}
    assert len(ogc) == len(by_endpoint["/collections/marac-cases-lad-monthly/items"]) > len(features)
    assert all(ogc[month] == count for month, count in features.items())


# --- the scorecard: its counts are recorded and guarded as /v1/counts' --------------------------------------------

INDICATOR = """
id: information-only-referrals
title: MARAC information-only referrals
definition: Test indicator.
owner: release-scorecard
dataset: marac-cases
categories: [information-only]
measure: count
direction: lower_is_better
baseline: {year: "2022/23", value: 1}
targets: {"2024/25": 10}
tolerance_pct: 5
data_lag_months: 0
provisional_months: 0
level: csp
"""


@pytest.fixture(scope="module")
def indicator(loaded: None, hub_env: HubEnv, tmp_path_factory: pytest.TempPathFactory) -> str:
    directory = tmp_path_factory.mktemp("indicators")
    (directory / "information-only-referrals.yaml").write_text(INDICATOR, encoding="utf-8")
    with session_scope(hub_env.engine) as session:
        load_indicators(session, load_directory(directory))
    return "information-only-referrals"


def test_a_scorecard_year_then_counts_for_the_year_less_its_first_month_recover_no_suppressed_count(
    indicator: str, hub_env: HubEnv, true_counts: Counter[tuple[str, str]]
) -> None:
    category = "information-only"
    months = [_month(2023, 7 + i) for i in range(24)]
    count = [true_counts[(category, m)] for m in months]
    # a year (as the scorecard shows it: the 12 months to `last`, and the 12 before) whose first month's count is
    # 1-4, with the year less that month at least MINIMUM and the year before not suppressed either
    start = next(
        i
        for i in range(13)
        if 1 <= count[i] < MINIMUM
        and sum(count[i + 1 : i + 12]) >= MINIMUM
        and (sum(count[max(0, i - 12) : i]) == 0 or sum(count[max(0, i - 12) : i]) >= MINIMUM)
    )
    first, second, last, hidden = months[start], months[start + 1], months[start + 11], count[start]
    client = hub_env.api_client(BY_SCORECARD, "analyst")
    response = client.get("/v1/scorecard", params={"csp": EASTBOURNE_CSP, "indicator": indicator, "as_of": last})
    assert response.status_code == 200, response.text
    [row] = response.json()["rows"]
    assert (row["status"], row["period_start"], row["period_end"]) == ("ok", first, last), row
    assert row["count"] == sum(count[start : start + 12])  # exact at MINIMUM and above
    less = _counts(client, category=category, period="all", **{"from": second, "to": last})
    assert _only(less) is None or row["count"] - int(_only(less) or 0) != hidden
    assert _only(less) is None  # without the guard: shown (at least MINIMUM), and `hidden` by subtraction
    assert any("exactly" in reason for reason in less["disclosure"]["withheld"])
    # The IG view lists the scorecard's figures: the year and the year before, over the CSP
    releases = hub_env.api_client(BY_SCORECARD, "ig_lead").get("/v1/ig/releases").json()
    scorecard = [
        (f["first_month"][:7], f["last_month"][:7], f["value"]) for f in releases["figures"] if f["level"] == "csp"
    ]
    assert (first, last, row["count"]) in scorecard and len(scorecard) == 2
    assert all(
        f["areas"] == [EASTBOURNE_CSP] and f["categories"] == [category]
        for f in releases["figures"]
        if f["level"] == "csp"
    )
