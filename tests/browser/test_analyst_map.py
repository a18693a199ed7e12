"""The analyst's map (/web/analyst/) in Chromium: the table behind it holds exactly the figures /v1/counts gives
for the same parameters, a suppressed area is hatched and says "suppressed", the legend names the rule the answer
says applied, an area's trend and the hot spots match /v1/trends and /v1/hotspots, the permalink restores the view,
other roles are refused; no WCAG 2.2 AA violation, no CSP violation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page

from tests.browser.analyst import drawn, query_string, refused, restored_by_permalink, shown, table
from tests.browser.conftest import HUB_IG_LEAD, PARTNER, SignedIn

pytestmark = [pytest.mark.integration, pytest.mark.browser]

MAP = "/web/analyst/"
EASTBOURNE = "E07000061"  # the analyst's district, as police-to-csp-analysts declares eastbourne-csp's area
YEAR = {"dataset": "police-records", "level": "ward", "from": "2025-04", "to": "2026-03"}
# MARAC cases by district in one month: counts under 10 are suppressed (marac-repeat-counts' rule)
SMALL = {"dataset": "marac-cases", "level": "lad", "from": "2025-01", "to": "2025-01"}
API_BOUNDS = {"period": "all", "area": EASTBOURNE, "area_level": "lad"}


def counts(api: httpx.Client, query: dict[str, str]) -> dict[str, Any]:
    answer = api.get("/v1/counts", params={**query, **API_BOUNDS})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_the_table_holds_the_figures_the_api_gives(analyst: Page, analyst_api: httpx.Client) -> None:
    page = drawn(analyst, f"{MAP}?{query_string(YEAR)}")
    body = counts(analyst_api, YEAR)
    expected = {r["area_code"]: (r["area_name"], shown(r["count"])) for r in body["rows"]}
    assert len(expected) >= 5  # Eastbourne's wards
    rows = table(page, "#table")
    assert {r["area_code"]: (r["area_name"], r["count"]) for r in rows} == expected
    assert len(rows) == len(expected)
    assert page.locator("path.leaflet-interactive").count() == len(expected)  # an area drawn per figure
    assert body["disclosure"]["rule"] in page.locator("#legend").inner_text()


def test_rates_are_the_rates_the_api_gives(analyst: Page, analyst_api: httpx.Client) -> None:
    page = drawn(analyst, f"{MAP}?{query_string(YEAR)}&measure=rates")
    answer = analyst_api.get("/v1/rates", params={**YEAR, **API_BOUNDS})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    expected = {
        r["area_code"]: (shown(r["count"]), str(r["population"]), f"{r['rate']:.2f}", f"{r['rate_lower']:.2f}")
        for r in body["rows"]
    }
    assert all(r["rate"] is not None for r in body["rows"])  # every ward has a population figure
    rows = table(page, "#table")
    assert {r["area_code"]: (r["count"], r["population"], r["rate"], r["rate_lower"]) for r in rows} == expected
    assert f"Rate per {body['per']}: {body['denominator_description']}" in page.locator("#legend").inner_text()


def test_a_suppressed_area_shows_as_suppressed(analyst: Page, analyst_api: httpx.Client, screenshot: Any) -> None:
    body = counts(analyst_api, SMALL)
    assert [r["count"] for r in body["rows"]] == [None], "the test needs Eastbourne's count suppressed"
    page = drawn(analyst, f"{MAP}?{query_string(SMALL)}")
    cell = page.locator('#table td[data-key="count"]')
    assert cell.inner_text() == "suppressed"
    assert "hub-suppressed" in (cell.get_attribute("class") or "")
    assert page.locator('path.leaflet-interactive[fill="url(#hub-hatch)"]').count() == 1  # hatched, not a class
    legend = page.locator("#legend").inner_text()
    assert "suppressed (disclosure control)" in legend and body["disclosure"]["rule"] in legend
    screenshot(page, "analyst-map-suppressed")


def test_an_area_opens_its_trend_as_the_api_gives_it(analyst: Page, analyst_api: httpx.Client) -> None:
    page = drawn(analyst, f"{MAP}?{query_string(YEAR)}")
    first = table(page, "#table")[0]
    page.locator("#table tbody tr").first.get_by_role("link").click()
    page.wait_for_selector("#area-table table")
    answer = analyst_api.get("/v1/trends", params={**YEAR, "period": "month", "area": first["area_code"]})
    assert answer.status_code == 200, answer.text
    months = table(page, "#area-table")
    expected = [(r["period"], shown(r["count"])) for r in answer.json()["rows"]]
    assert [(m["period"], m["count"]) for m in months] == expected
    assert f"area={first['area_code']}" in page.url  # the area chosen is in the permalink


def test_the_hot_spots_match_the_api(analyst: Page, analyst_api: httpx.Client) -> None:
    page = drawn(analyst, f"{MAP}?{query_string(YEAR)}&hotspots=on")
    page.wait_for_selector("#hotspots-table table")
    answer = analyst_api.get("/v1/hotspots", params={k: v for k, v in {**YEAR, **API_BOUNDS}.items() if k != "period"})
    assert answer.status_code == 200, answer.text
    expected = {
        f["properties"]["code"]: (shown(f["properties"]["count"]), f["properties"]["classification"])
        for f in answer.json()["features"]
    }
    assert {r["code"]: (r["count"], r["classification"]) for r in table(page, "#hotspots-table")} == expected


def test_the_permalink_restores_the_view(analyst: Page) -> None:
    page = drawn(analyst, MAP)  # no parameters: the page chooses, and puts its choice in the address
    link = restored_by_permalink(page, ("#dataset", "#category", "#level", "#from", "#to"))
    assert "dataset=" in link and "from=" in link


@pytest.mark.parametrize("who", [HUB_IG_LEAD, PARTNER])
def test_other_roles_are_refused(sign_in: Callable[[str, str], Page], who: tuple[str, str]) -> None:
    org, role = who
    refused(sign_in(role, org), MAP)


def test_accessible_without_csp_violations(
    analyst_signed_in: SignedIn, assert_accessible: Callable[[Page], None], screenshot: Any
) -> None:
    page = drawn(analyst_signed_in.page, f"{MAP}?{query_string(YEAR)}&hotspots=on")
    page.wait_for_selector("#hotspots-table table")
    assert_accessible(page)
    assert analyst_signed_in.watch.violations == []  # on this page or any the module's tests opened
    screenshot(page, "analyst-map")
