"""Signing in through the form in headless Chromium, as each user group: the session cookie is out of the page's
reach, the page's own fetch calls the API as the signed-in person (a state-changing one only with the CSRF token),
signing out ends it, and no page breaks the Content-Security-Policy."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Page

from tests.browser.conftest import ANALYST, HUB_IG_LEAD, PARTNER, SIGN_IN
from web.navigation import home

pytestmark = [pytest.mark.integration, pytest.mark.browser]

API_PATH = "/v1/indicators"  # needs a key or a session
GEOCODE = "/v1/geocode"  # the API's one POST
_FETCH_STATUS = "([path, init]) => fetch(path, init).then((r) => r.status)"


def _path(page: Page) -> str:
    return "/" + page.url.split("/", 3)[3]


@pytest.mark.parametrize(("org", "role"), [ANALYST, HUB_IG_LEAD, PARTNER], ids=["analyst", "ig_lead", "partner"])
def test_each_user_group_signs_in_through_the_form_and_the_page_calls_the_api_as_them(
    sign_in: Callable[[str, str], Page],
    csp_violations: Callable[[Page], list[str]],
    api_as: Callable[[str, str], httpx.Client],
    org: str,
    role: str,
) -> None:
    page = sign_in(role, org)
    assert _path(page) == home(role)
    [cookie] = [c for c in page.context.cookies() if c["name"] == "hub_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert "hub_session" not in page.evaluate("() => document.cookie")
    with_cookie = page.evaluate(_FETCH_STATUS, [API_PATH, {}])
    assert with_cookie == api_as(role, org).get(API_PATH).status_code
    assert with_cookie != 401
    assert csp_violations(page) == []


def test_a_pages_state_changing_call_needs_the_csrf_token_and_sign_out_ends_the_session(
    sign_in: Callable[[str, str], Page], csp_violations: Callable[[Page], list[str]]
) -> None:
    org, role = ANALYST
    page = sign_in(role, org)
    json = {"Content-Type": "application/json"}
    post = {"method": "POST", "headers": json, "body": '{"items": []}'}
    assert page.evaluate(_FETCH_STATUS, [GEOCODE, post]) == 403
    token = page.evaluate("() => document.querySelector('meta[name=\"csrf-token\"]').content")
    assert token
    with_token = {**post, "headers": {**json, "X-CSRF-Token": token}}
    assert page.evaluate(_FETCH_STATUS, [GEOCODE, with_token]) not in (401, 403)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    assert _path(page) == SIGN_IN
    assert page.evaluate(_FETCH_STATUS, [API_PATH, {}]) == 401  # no session: the public, refused
    page.goto("/web/")
    assert _path(page).startswith(f"{SIGN_IN}?next=")
    assert csp_violations(page) == []


def test_a_wrong_key_shows_the_error_summary(
    open_page: Callable[[], Page], csp_violations: Callable[[Page], list[str]]
) -> None:
    page = open_page()
    page.goto(SIGN_IN)
    page.get_by_label("API key").fill("hub_0123456789abcdef_not-a-key")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert _path(page) == SIGN_IN
    summary = page.locator(".govuk-error-summary")
    assert "Enter a valid API key" in summary.inner_text()
    assert page.title().startswith("Error:")
    assert not [c for c in page.context.cookies() if c["name"] == "hub_session"]
    assert csp_violations(page) == []
