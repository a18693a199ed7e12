"""The analyst's trends (/web/analyst/trends) in Chromium: the table holds exactly the counts and changes
/v1/trends gives for the same parameters, a suppressed count says "suppressed", the permalink restores the view,
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

TRENDS = "/web/analyst/trends"
EASTBOURNE = "E07000061"
QUARTERS = {"dataset": "police-records", "level": "lad", "from": "2024-04", "to": "2026-03", "period": "quarter"}
SMALL = {"dataset": "marac-cases", "level": "lad", "from": "2024-04", "to": "2025-03", "period": "month"}


def trends(api: httpx.Client, query: dict[str, str]) -> list[dict[str, Any]]:
    answer = api.get("/v1/trends", params={**query, "area": EASTBOURNE, "area_level": "lad"})
    assert answer.status_code == 200, answer.text
    rows: list[dict[str, Any]] = answer.json()["rows"]
    return rows


def compared(c: dict[str, Any]) -> tuple[str, str, str]:
    """What the table says of a comparison: its period, its count, and whether the change is significant and
    indicative (the words the page uses), else the API's note."""
    missing = "no data" if (c["note"] or "").startswith("before") else "suppressed"
    count = missing if c["count"] is None else str(c["count"])
    if c["absolute_change"] is None:
        return c["period"], count, c["note"]
    flags = ("significant" if c["significant"] else "not significant") + (", indicative" if c["indicative"] else "")
    return c["period"], count, flags


def test_the_table_holds_the_changes_the_api_gives(analyst: Page, analyst_api: httpx.Client) -> None:
    page = drawn(analyst, f"{TRENDS}?{query_string(QUARTERS)}")
    expected = trends(analyst_api, QUARTERS)
    assert len(expected) == 8  # two financial years by quarter
    rows = table(page, "#table")
    assert [(r["period"], r["count"]) for r in rows] == [(e["period"], shown(e["count"])) for e in expected]
    for row, wanted in zip(rows, expected, strict=True):
        for name in ("previous", "year_ago"):
            period, count, says = compared(wanted[name])
            assert (row[f"{name}_period"], row[f"{name}_count"]) == (period, count)
            assert says in row[f"{name}_change"]
            change = wanted[name]["absolute_change"]
            if change is not None:
                assert row[f"{name}_change"].startswith(f"{'+' if change > 0 else ''}{change}")
    assert any(r["year_ago_count"] not in ("no data", "suppressed") for r in rows)  # year-ago changes shown


def test_a_suppressed_count_shows_as_suppressed(analyst: Page, analyst_api: httpx.Client) -> None:
    expected = trends(analyst_api, SMALL)
    assert any(e["count"] is None for e in expected), "the test needs a suppressed month"
    page = drawn(analyst, f"{TRENDS}?{query_string(SMALL)}")
    rows = table(page, "#table")
    assert [r["count"] for r in rows] == [shown(e["count"]) for e in expected]
    hatched = page.locator('#table td[data-key="count"].hub-suppressed').count()
    assert hatched == sum(e["count"] is None for e in expected)


def test_the_permalink_restores_the_view(analyst: Page) -> None:
    page = drawn(analyst, TRENDS)  # no parameters: the page chooses, and puts its choice in the address
    link = restored_by_permalink(page, ("#dataset", "#category", "#level", "#from", "#to", "#period", "#area"))
    assert "period=month" in link and "dataset=" in link


@pytest.mark.parametrize("who", [HUB_IG_LEAD, PARTNER])
def test_other_roles_are_refused(sign_in: Callable[[str, str], Page], who: tuple[str, str]) -> None:
    org, role = who
    refused(sign_in(role, org), TRENDS)


def test_accessible_without_csp_violations(
    analyst_signed_in: SignedIn, assert_accessible: Callable[[Page], None], screenshot: Any
) -> None:
    page = drawn(analyst_signed_in.page, f"{TRENDS}?{query_string(QUARTERS)}")
    assert_accessible(page)
    assert analyst_signed_in.watch.violations == []  # on this page or any the module's tests opened
    screenshot(page, "analyst-trends")
