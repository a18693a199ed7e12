"""The browser tests' own fixtures do what the tests rely on: the hub holds every dataset the pages read, the
server answers on loopback, and a page cannot reach any other address (the attempt is refused and reported)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Error, Page

from tests.browser.conftest import ANALYST
from tests.support import browser as chromium
from tests.support.hub import HubEnv
from tests.support.web_data import generated_options
from web.navigation import home
from web.settings import WebSettings

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_the_hub_holds_every_dataset_the_pages_read(web_hub: HubEnv) -> None:
    loaded = dict(web_hub.query("SELECT dataset, count(*) FROM event GROUP BY dataset"))
    assert set(loaded) == {"police-uk-street", *generated_options()}
    assert all(count > 0 for count in loaded.values())
    [(population,)] = web_hub.query("SELECT count(*) FROM population")
    [(indicators,)] = web_hub.query("SELECT count(*) FROM indicator")
    assert population > 0 and indicators > 0


def test_an_analyst_key_reads_the_api_on_loopback(web_server: str, api_as: Callable[[str, str], httpx.Client]) -> None:
    assert web_server.startswith("http://127.0.0.1:")
    org, role = ANALYST
    params = {"dataset": "police-uk-street", "level": "ward", "from": "2019-01", "to": "2019-01"}
    answer = api_as(role, org).get("/v1/counts", params=params)
    assert answer.status_code == 200, answer.text
    forged = httpx.get(f"{web_server}/v1/counts", params=params, headers={"Authorization": "Bearer forged"})
    assert forged.status_code == 401


def test_a_page_cannot_reach_beyond_the_server(browser: Browser, web_server: str) -> None:
    # The server's Content-Security-Policy would stop the fetch itself: bypassed, the route alone must refuse it.
    page, offline, _ = chromium.new_page(browser, web_server, bypass_csp=True)
    try:
        page.goto("/healthz")
        with pytest.raises(Error):
            page.evaluate("() => fetch('https://example.org/tiles/1/2/3.png').then((r) => r.status)")
        with pytest.raises(Error):
            page.goto("http://10.0.0.1/")
        assert offline.refused == ["https://example.org/tiles/1/2/3.png", "http://10.0.0.1/"]
    finally:
        page.context.close()


def test_signing_in_through_the_form_lets_the_page_read_the_api_as_that_person(
    sign_in: Callable[[str, str], Page], csp_violations: Callable[[Page], list[str]]
) -> None:
    org, role = ANALYST
    page = sign_in(role, org)
    assert urlsplit(page.url).path == home(role)
    [session] = [cookie for cookie in page.context.cookies() if cookie.get("httpOnly")]
    assert session.get("sameSite") == "Strict"
    counts = "/v1/counts?dataset=police-uk-street&level=ward&from=2019-01&to=2019-01"
    assert page.evaluate("(path) => fetch(path).then((r) => r.status)", counts) == 200
    assert csp_violations(page) == []


def test_a_script_the_policy_blocks_is_reported(browser: Browser, web_server: str) -> None:
    page, offline, watch = chromium.new_page(browser, web_server)
    try:
        page.goto("/healthz")
        with pytest.raises(Error):
            page.evaluate("() => fetch('https://example.org/beacon')")
        page.wait_for_function("() => true")  # the violation event is delivered before the next evaluation
        assert any("connect-src" in violation for violation in watch.violations), watch.violations
        assert offline.refused == []  # the policy stopped it before the network
    finally:
        page.context.close()


def test_axe_names_what_a_page_fails(browser: Browser, web_server: str, web_settings: WebSettings) -> None:
    page, _, _ = chromium.new_page(browser, web_server)
    try:
        page.set_content('<html><body><img src="data:,"><input type="text"></body></html>')
        violations = chromium.run_axe(page, web_settings.assets_dir)
        assert {"html-has-lang", "image-alt", "label"} <= {v["id"] for v in violations}
        assert "image-alt" in chromium.describe_violations(violations)
    finally:
        page.context.close()


def test_the_sign_in_page_passes_axe_within_its_policy(
    open_page: Callable[[], Page],
    assert_accessible: Callable[[Page], None],
    csp_violations: Callable[[Page], list[str]],
    screenshot: Callable[[Page, str], object],
) -> None:
    page = open_page()
    response = page.goto(chromium.SIGN_IN)
    assert response is not None and response.status == 200
    page.wait_for_load_state("networkidle")
    sheets = page.evaluate("() => [...document.styleSheets].map((s) => [s.href, s.cssRules.length])")
    assert [rules > 100 for href, rules in sheets if href and href.endswith("/assets/hub.css")] == [True]
    screenshot(page, "sign-in")
    assert csp_violations(page) == []
    assert_accessible(page)
