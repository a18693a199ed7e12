"""Every page each role's navigation lists (web/navigation.py), visited signed in as that role: it answers 200,
passes axe-core's WCAG 2.2 AA checks, meets no Content-Security-Policy violation, asks for nothing beyond the
server, and is photographed (tests/browser/screenshots/<role>-<page>.png)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import ANALYST, HUB_IG_LEAD, ORG_IG_LEAD, PARTNER
from web.navigation import NAVIGATION

pytestmark = [pytest.mark.integration, pytest.mark.browser]

# Who visits each role's pages: (org, role).
VISITORS = {"analyst": [ANALYST], "ig_lead": [HUB_IG_LEAD, ORG_IG_LEAD], "partner": [PARTNER]}
VISITS = [
    pytest.param(org, role, href, id=f"{org}-{role}-{label}")
    for role, pages in NAVIGATION.items()
    for org, _ in VISITORS[role]
    for href, label in pages
]


def _name(org: str, role: str, href: str) -> str:
    slug = href.strip("/").replace("/", "-") or "home"
    return f"{role}-{org}-{slug}"


@pytest.mark.parametrize(("org", "role", "href"), VISITS)
def test_each_navigation_page_answers_accessibly_within_its_policy(
    org: str,
    role: str,
    href: str,
    sign_in: Callable[[str, str], Page],
    assert_accessible: Callable[[Page], None],
    csp_violations: Callable[[Page], list[str]],
    screenshot: Callable[[Page, str], object],
) -> None:
    page = sign_in(role, org)
    response = page.goto(href)
    assert response is not None and response.status == 200, f"{href}: {response and response.status}"
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").count() == 1
    current = page.get_by_role("navigation", name="Menu").get_by_role("link", name=_label(role, href), exact=True)
    assert current.get_attribute("aria-current") == "page"
    screenshot(page, _name(org, role, href))
    assert csp_violations(page) == []
    assert_accessible(page)


def _label(role: str, href: str) -> str:
    [label] = [label for link, label in NAVIGATION[role] if link == href]
    return label
