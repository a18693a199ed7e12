"""The analyst's performance pages in headless Chromium on the loaded test hub: each table's cells against the API's
answer to the same parameters (the expected text worked out here from the JSON), suppressed cells shown as
suppressed, the refusal page for other roles, WCAG 2.2 AA (axe), no CSP violation, the permalink restoring the
view, the CSV links, the pack's print layout, and a 1366x768 screenshot of each page."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from playwright.sync_api import Page

from tests.browser.analyst import fixed, shown, table
from tests.browser.conftest import ANALYST, HUB_IG_LEAD, PARTNER
from tests.support.hub import HubEnv
from web.routes.performance import financial_quarters

pytestmark = [pytest.mark.integration, pytest.mark.browser]

EASTBOURNE_CSP = "E22000295"
SignIn = Callable[[str, str], Page]
ApiAs = Callable[[str, str], httpx.Client]
Check = Callable[[Page], None]
Violations = Callable[[Page], list[str]]
Shoot = Callable[[Page, str], Any]

SCORECARD = {"csp": EASTBOURNE_CSP}
HOTSPOTS = {
    "dataset": "police-records",
    "from": "2025-04",
    "to": "2025-06",
    "area": EASTBOURNE_CSP,
    "area_level": "csp",
    "level": "ward",
}
REPEATS = {"measure": "domestic_abuse", "from": "2024-04", "to": "2025-03"}
MARAC = {"measure": "marac", "from": "2025-01", "to": "2025-06"}
COHORTS = {"from": "2024-04", "to": "2026-03"}
PACK = {"csp": EASTBOURNE_CSP, "quarter": "2025-04"}
TAG_COLOURS = {"green": "green", "amber": "orange", "red": "red", "grey": "grey"}  # GOV.UK tag modifiers
PAGES = ["scorecard", "hotspots", "repeats", "cohorts", "pack"]


# ---- opening a page and reading it ------------------------------------------------------------------------------


def _open(page: Page, path: str, params: dict[str, str]) -> Page:
    page.goto(f"{path}?{urlencode(params)}")
    page.wait_for_selector("html[data-hub-drawn]")
    return page


def _table(page: Page, container: str) -> list[dict[str, str]]:
    """The rows of the table in `#container`, each cell by its data-key."""
    return table(page, f"#{container}")


def _problems(page: Page) -> list[str]:
    return page.locator("#problem-list li").all_inner_texts()


def _suppressed_cells_are_marked(page: Page, container: str) -> int:
    """How many cells read "suppressed"; each is marked for the hatched fill."""
    texts = page.eval_on_selector_all(
        f"#{container} td", "cells => cells.filter(c => c.textContent === 'suppressed').map(c => c.className)"
    )
    assert all("hub-suppressed" in classes for classes in texts)
    return len(texts)


def _get(api: httpx.Client, path: str, params: dict[str, str]) -> Any:
    answer = api.get(path, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _download(page: Page, label: str) -> str:
    href = page.get_by_role("link", name=label).get_attribute("href")
    assert href is not None
    return href


def _csv_of(api: httpx.Client, href: str) -> httpx.Response:
    answer = api.get(href)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv"), answer.text
    return answer


def _opened(
    sign_in: SignIn, api_as: ApiAs, api_path: str, path: str, params: dict[str, str]
) -> tuple[httpx.Client, Any, Page]:
    """The analyst's API client, the API's answer for `params` and the page at `path` with them, drawn with no
    problem shown."""
    api = api_as(*reversed(ANALYST))
    body = _get(api, api_path, params)
    page = _open(sign_in(*reversed(ANALYST)), path, params)
    assert _problems(page) == []
    return api, body, page


def _clean_accessible_shot(
    page: Page, name: str, csp_violations: Violations, screenshot: Shoot, assert_accessible: Check
) -> None:
    """No CSP violation on `page`, its screenshot `name`, and no WCAG 2.2 AA violation."""
    assert csp_violations(page) == []
    screenshot(page, name)
    assert_accessible(page)


# ---- the scorecard ----------------------------------------------------------------------------------------------


def _scorecard_expected(body: dict[str, Any]) -> list[dict[str, str]]:
    def travel(row: dict[str, Any]) -> str:
        if not row["direction_of_travel"]:
            return ""
        change = row["change"] or 0
        return f"{row['direction_of_travel']} {'↑' if change > 0 else '↓' if change < 0 else '→'}"

    return [
        {
            "title": r["title"],
            "actual": fixed(r["actual"], 1) if r["status"] == "ok" else "not available",
            "count": "" if r["count"] is None else str(r["count"]),
            "target": fixed(r["target"], 1),
            "rag": r["rag"] or "",
            "direction_of_travel": travel(r),
            "reason": "" if r["status"] == "ok" else r["reason"],
        }
        for r in body["rows"]
    ]


def _scorecard_shown(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    keys = ("title", "actual", "count", "target", "rag", "direction_of_travel", "reason")
    return [{k: row[k] for k in keys} for row in rows]


def test_the_scorecard_shows_the_apis_figures_and_rag_in_words(
    sign_in: SignIn, api_as: ApiAs, assert_accessible: Check, csp_violations: Violations, screenshot: Shoot
) -> None:
    api, body, page = _opened(sign_in, api_as, "/v1/scorecard", "/web/analyst/scorecard", SCORECARD)
    assert _scorecard_shown(_table(page, "table")) == _scorecard_expected(body)
    assert any(r["status"] == "ok" and r["rag"] for r in body["rows"])  # the demo indicators have figures
    tags = page.eval_on_selector_all(
        '#table td[data-key="rag"] .govuk-tag',
        "t => t.map(e => [e.className, e.textContent])",
    )
    assert [word for _, word in tags] == [r["rag"] for r in body["rows"] if r["rag"]]  # the word, not colour alone
    assert all(f"govuk-tag--{TAG_COLOURS[word]}" in classes.split() for classes, word in tags)
    assert page.input_value("#field-csp") == EASTBOURNE_CSP  # the permalink fills the form
    csv = _csv_of(api, _download(page, "Download this scorecard (CSV)"))
    assert len(csv.text.strip().splitlines()) == len(body["rows"]) + 1
    _clean_accessible_shot(page, "analyst-scorecard", csp_violations, screenshot, assert_accessible)


def test_choosing_a_csp_makes_the_permalink(sign_in: SignIn) -> None:
    page = sign_in(*reversed(ANALYST))
    page.goto("/web/analyst/scorecard")  # the analyst's first CSP, drawn at once
    page.wait_for_selector("html[data-hub-drawn]")
    assert page.input_value("#field-csp") == EASTBOURNE_CSP and _table(page, "table")
    page.select_option("#field-csp", EASTBOURNE_CSP)
    with page.expect_navigation():
        page.get_by_role("button", name="Show scorecard").click()
    page.wait_for_selector("html[data-hub-drawn]")
    assert page.url.endswith(f"/web/analyst/scorecard?csp={EASTBOURNE_CSP}&as_of=")
    first = _table(page, "table")
    again = _open(page, "/web/analyst/scorecard", SCORECARD)
    assert first and _table(again, "table") == first


# ---- hot spots --------------------------------------------------------------------------------------------------


def test_the_hot_spots_table_is_the_apis(
    sign_in: SignIn, api_as: ApiAs, assert_accessible: Check, csp_violations: Violations, screenshot: Shoot
) -> None:
    api, body, page = _opened(sign_in, api_as, "/v1/hotspots", "/web/analyst/hotspots", HOTSPOTS)
    expected = [
        {
            "name": p["name"],
            "code": p["code"],
            "count": shown(p["count"]),
            "gi_count": str(p["gi_count"]),
            "z_score": fixed(p["z_score"], 2),
            "p_value": fixed(p["p_value"], 3),
            "p_sim": fixed(p["p_sim"], 3),
            "classification": p["classification"],
        }
        for p in (f["properties"] for f in body["features"])
    ]
    assert len(expected) >= 3 and _table(page, "table") == expected
    assert body["disclosure"]["rule"].rstrip(".") in page.inner_text("#rule")
    assert page.input_value("#field-area") == EASTBOURNE_CSP and page.input_value("#field-from") == "2025-04"
    records = _csv_of(api, _download(page, "Download this table (CSV)")).text.strip().splitlines()
    assert len(records) == len(expected) + 1
    _clean_accessible_shot(page, "analyst-hotspots", csp_violations, screenshot, assert_accessible)


# ---- repeats ----------------------------------------------------------------------------------------------------


def _area(row: dict[str, Any], missing: str) -> str:
    return str(row["area_name"] or row["area_code"] or missing)


def test_domestic_abuse_repeats_are_the_apis_with_suppressed_cells_shown_as_such(
    sign_in: SignIn, api_as: ApiAs, assert_accessible: Check, csp_violations: Violations, screenshot: Shoot
) -> None:
    api, body, page = _opened(sign_in, api_as, "/v1/repeats", "/web/analyst/repeats", REPEATS)
    rows = [*body["rows"], *body["unlocated"]]
    expected = [
        {
            "area_name": _area(r, "Not located at this level"),
            "area_code": r["area_code"] or "",
            "month": r["month"],
            "incidents": shown(r["incidents"]),
            "repeat_incidents": shown(r["repeat_incidents"]),
            "repeat_percent": shown(r["repeat_percent"], 1),
            "without_victim_pseudonym": shown(r["without_victim_pseudonym"]),
        }
        for r in rows
    ]
    assert expected and _table(page, "table") == expected
    nulls = sum(v is None for r in rows for k, v in r.items() if k not in ("area_code", "area_name"))
    assert nulls and _suppressed_cells_are_marked(page, "table") == nulls  # the demo's small counts are suppressed
    assert body["disclosure"]["rule"].rstrip(".") in page.inner_text("#rule")
    assert page.locator("#field-measure").input_value() == "domestic_abuse"
    _csv_of(api, _download(page, "Download this table (CSV)"))
    _clean_accessible_shot(page, "analyst-repeats", csp_violations, screenshot, assert_accessible)


def test_the_marac_repeat_rate_is_the_apis(sign_in: SignIn, api_as: ApiAs) -> None:
    body = _get(api_as(*reversed(ANALYST)), "/v1/repeats", MARAC)
    page = _open(sign_in(*reversed(ANALYST)), "/web/analyst/repeats", MARAC)
    assert _problems(page) == []
    rows = [*body["rows"], *body["unlocated"]]
    expected = [
        {
            "marac_area": r["marac_area"] or "",
            "area_name": _area(r, "Not located at this level"),
            "area_code": r["area_code"] or "",
            "period": r["period"],
            "cases": shown(r["cases"]),
            "repeat_cases": shown(r["repeat_cases"]),
            "repeat_rate": shown(r["repeat_rate"], 1),
            "unlinked_cases": shown(r["unlinked_cases"]),
            "information_only": shown(r["information_only"]),
        }
        for r in rows
    ]
    assert expected and _table(page, "table") == expected


# ---- cohorts ----------------------------------------------------------------------------------------------------


def test_cohorts_are_the_apis_with_the_unlinked(
    sign_in: SignIn, api_as: ApiAs, assert_accessible: Check, csp_violations: Violations, screenshot: Shoot
) -> None:
    api, body, page = _opened(sign_in, api_as, "/v1/cohorts", "/web/analyst/cohorts", COHORTS)
    rows = [*body["rows"], *body["unlinked"]]
    expected = [
        {
            "area_name": _area(r, "Not linked to an area"),
            "area_code": r["area_code"] or "",
            "cohort": r["cohort"],
            "period": r["period"],
            "cohort_size": shown(r["cohort_size"]),
            "reoffenders": shown(r["reoffenders"]),
            "rate": shown(r["rate"], 1),
            "predicted_rate": shown(r["predicted_rate"], 1),
            "difference": shown(r["difference"], 1),
        }
        for r in rows
    ]
    assert expected and _table(page, "table") == expected
    assert f"{len(body['unlinked'])} row(s)" in page.inner_text("#unlinked") or not body["unlinked"]
    _csv_of(api, _download(page, "Download this table (CSV)"))
    _clean_accessible_shot(page, "analyst-cohorts", csp_violations, screenshot, assert_accessible)


# ---- the quarterly performance pack -----------------------------------------------------------------------------


def _change(c: dict[str, Any]) -> str:
    if c["percent_change"] is None:
        return str(c.get("note") or ("suppressed" if c["count"] is None else ""))
    sign = "+" if c["absolute_change"] > 0 else ""
    flags = (", significant" if c["significant"] else "") + (", indicative" if c["indicative"] else "")
    return f"{sign}{c['absolute_change']} ({fixed(c['percent_change'], 1)}%){flags}"


def _compared(c: dict[str, Any]) -> str:
    """A comparison period's count: the count, else the API's note (before the data), else suppressed."""
    return str(c["count"]) if c["count"] is not None else str(c.get("note") or "suppressed")


def test_the_pack_puts_the_apis_headline_scorecard_trends_and_hot_spots_together(
    sign_in: SignIn, api_as: ApiAs, assert_accessible: Check, csp_violations: Violations, screenshot: Shoot
) -> None:
    api = api_as(*reversed(ANALYST))
    datasets = ["council-asb", "police-records"]  # as the form lists them: the first is mapped
    query = [*PACK.items(), *(("dataset", d) for d in datasets)]
    page = sign_in(*reversed(ANALYST))
    page.goto(f"/web/analyst/pack?{urlencode(query)}")
    page.wait_for_selector("html[data-hub-drawn='2']")
    assert _problems(page) == []
    headline, history = [], []
    for dataset in datasets:
        trend = {"dataset": dataset, "from": "2023-07", "to": "2025-06", "level": "csp", "area": EASTBOURNE_CSP}
        body = _get(api, "/v1/trends", {**trend, "period": "quarter"})
        rows = [r for r in body["rows"] if r["area_code"] == EASTBOURNE_CSP]
        headline += [
            {
                "dataset": dataset,
                "period": r["period"],
                "count": shown(r["count"]),
                "previous": _change(r["previous"]),
                "year_ago": _change(r["year_ago"]),
            }
            for r in rows
            if r["period"] == body["periods"][-1]
        ]
        history += [
            {
                "dataset": dataset,
                "period": r["period"],
                "count": shown(r["count"]),
                "previous_count": _compared(r["previous"]),
                "year_ago_count": _compared(r["year_ago"]),
            }
            for r in rows
        ]
    assert [r["period"] for r in headline] == ["2025-Q2", "2025-Q2"]
    assert _table(page, "headline") == headline and _table(page, "trends") == history
    scorecard = _get(api, "/v1/scorecard", {**SCORECARD, "as_of": "2025-06"})
    assert _scorecard_shown(_table(page, "scorecard")) == _scorecard_expected(scorecard)
    spots = _get(api, "/v1/hotspots", {**HOTSPOTS, "dataset": datasets[0]})
    assert [r["code"] for r in _table(page, "hotspots")] == [f["properties"]["code"] for f in spots["features"]]
    counts = [shown(f["properties"]["count"]) for f in spots["features"]]
    assert [r["count"] for r in _table(page, "hotspots")] == counts
    links = page.locator("#downloads a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert sum("format=csv" in link for link in links) == len(datasets) + 2  # trends each, scorecard, hot spots
    for link in links:
        if "format=csv" in link:
            _csv_of(api, link)
    checked = page.locator('input[name="dataset"]:checked').evaluate_all("boxes => boxes.map(b => b.value)")
    assert sorted(checked) == sorted(datasets)  # the permalink restores the choice
    _clean_accessible_shot(page, "analyst-pack", csp_violations, screenshot, assert_accessible)


def test_the_pack_prints_without_navigation_one_section_a_page(sign_in: SignIn) -> None:
    page = sign_in(*reversed(ANALYST))
    page.goto(f"/web/analyst/pack?{urlencode({**PACK, 'dataset': 'police-records'})}")
    page.wait_for_selector("html[data-hub-drawn='2']")
    page.emulate_media(media="print")
    assert page.locator(".govuk-service-navigation").is_hidden() and page.locator("form.hub-query").is_hidden()
    assert page.locator(".govuk-header").is_hidden() and page.locator(".govuk-footer").is_hidden()
    breaks = page.locator(".hub-pack-section").evaluate_all("s => s.map(e => getComputedStyle(e).breakBefore)")
    assert breaks[0] != "page" and all(b == "page" for b in breaks[1:4])
    pdf = page.pdf(format="A4")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 4  # headline, scorecard, trends, hot spots


# ---- who may see them -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", [PARTNER, HUB_IG_LEAD])
def test_other_roles_get_the_refusal_page(sign_in: SignIn, who: tuple[str, str]) -> None:
    org, role = who
    page = sign_in(role, org)
    for name in PAGES:
        answer = page.goto(f"/web/analyst/{name}?csp={EASTBOURNE_CSP}")
        assert answer is not None and answer.status == 403, name
        assert "This page is for CSP analysts" in page.inner_text("main"), name
        assert page.locator("#table tr, #headline tr").count() == 0


def test_the_pack_without_parameters_is_the_first_csp_last_quarter_and_indicator_datasets(
    sign_in: SignIn, api_as: ApiAs, web_hub: HubEnv
) -> None:
    """What the navigation opens: the analyst's CSP, the last complete quarter, the datasets the CSP indicators
    count (those the analyst's protocols give); drawn from the API like any pack."""
    page = sign_in(*reversed(ANALYST))
    page.goto("/web/analyst/pack")
    page.wait_for_selector("html[data-hub-drawn='2']")
    assert _problems(page) == []
    assert page.input_value("#field-csp") == EASTBOURNE_CSP
    assert page.input_value("#field-quarter") == financial_quarters(date.today())[1].value
    counted = {str(d) for (d,) in web_hub.query("SELECT DISTINCT dataset FROM indicator WHERE level = 'csp'")}
    checked = page.locator('input[name="dataset"]:checked').evaluate_all("boxes => boxes.map(b => b.value)")
    offered = page.locator('input[name="dataset"]').evaluate_all("boxes => boxes.map(b => b.value)")
    assert checked and set(checked) == counted & set(offered)
    shown_datasets = [r["dataset"] for r in _table(page, "headline")]
    assert shown_datasets and set(shown_datasets) <= set(checked)  # a dataset with no event in the quarter has none
