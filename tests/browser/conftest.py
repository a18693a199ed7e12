"""Fixtures of the browser tests: one hub loaded once with what every page reads, the API with the web application
served on loopback, headless Chromium kept offline, people signed in through the sign-in form, axe-core, CSP
watching and screenshots.

Fixtures: web_hub, web_server (base URL), browser, sign_in(role, org) -> Page, open_page() -> Page (nobody signed
in), api_as(role, org) -> httpx.Client, axe(page), assert_accessible(page), csp_violations(page), wait_drawn(page),
screenshot(page, name); for the analyst's map and trends, analyst_signed_in (one page a module, signed in as the
analyst), analyst (its page) and analyst_api (the analyst's API client). Every page is kept offline and the test
fails if one asked beyond the server.
The long-lived fixtures are of the tests/browser package's scope: Playwright's sync API runs an event loop on the
main thread while it lives, which later tests calling asyncio.run would meet.
A test module marks itself `pytestmark = [pytest.mark.integration, pytest.mark.browser]`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from api.factory import create_app
from tests.support import browser as chromium
from tests.support.hub import UNLIMITED, HubEnv, Services, create_hub
from tests.support.open_data import ROOT
from tests.support.web_data import load_web_data
from tests.support.web_server import serving
from warehouse.governance.keys import create_key
from warehouse.schema.db import session_scope
from web.install import install_web
from web.settings import WebSettings

# Who the tests sign in as: (org, role). The demo's analyst (a recipient the packaged protocols grant), the hub
# operator's IG lead (oversees every protocol), a data owner's IG lead, and the police partner of the demo feeds.
ANALYST = ("eastbourne-csp", "analyst")
HUB_IG_LEAD = ("hub", "ig_lead")
ORG_IG_LEAD = ("sussex-police", "ig_lead")
PARTNER = ("sussex-police", "partner")
SIGN_IN = chromium.SIGN_IN  # the sign-in page's path


@pytest.fixture(scope="package")
def web_hub(services: Services, shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubEnv]:
    """One hub (the packaged protocols) loaded once with the reference data, indicators, the Sussex police.uk file
    and the demo's generated partner feeds (tests.support.web_data)."""
    for hub in create_hub(services, [], shared_data):
        load_web_data(hub, shared_data, tmp_path_factory.mktemp("web-feeds"))
        yield hub


@pytest.fixture(scope="package")
def web_settings() -> WebSettings:
    """The web application's settings: the front-end packages installed in this checkout; sign-ins unlimited (the
    tests sign in many times a minute from one address; the limit is tested in tests/integration/test_web_sessions)."""
    return WebSettings(assets_dir=ROOT, sign_ins_per_minute=10**9)


@pytest.fixture(scope="package")
def web_server(web_hub: HubEnv, web_settings: WebSettings) -> Iterator[str]:
    """The API with the web application over `web_hub` (as the API's database role), served by uvicorn on a free
    loopback port; its base URL (no trailing slash)."""
    app = create_app(web_hub.api_warehouse, web_hub.register, web_hub.geography, UNLIMITED, cdn_docs=False)
    install_web(app, web_settings)
    with serving(app) as base:
        yield base


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Headless Chromium (the machine's /usr/bin/chromium) for the session."""
    with sync_playwright() as playwright:
        launched = chromium.launch(playwright)
        yield launched
        launched.close()


@pytest.fixture(scope="package")
def issue_key(web_hub: HubEnv) -> Callable[[str, str], str]:
    """issue_key(role, org): a real API key for `org` in `role`, issued in `web_hub`'s database."""

    def issue(role: str, org: str) -> str:
        with session_scope(web_hub.engine) as session:
            return create_key(session, org, role)

    return issue


@dataclass
class Pages:
    """The pages a test opens: each in its own context, offline but for the server, its CSP violations watched."""

    browser: Browser
    origin: str
    issue_key: Callable[[str, str], str]
    opened: dict[int, tuple[Page, chromium.Offline, chromium.CspWatch]] = field(default_factory=dict)

    def open(self, **context_options: Any) -> Page:
        """A new page, signed in as nobody."""
        page, offline, watch = chromium.new_page(self.browser, self.origin, **context_options)
        self.opened[id(page)] = (page, offline, watch)
        return page

    def sign_in(self, role: str, org: str) -> Page:
        """A new page signed in as `org`'s `role` through the sign-in form, with a fresh key; it is left on the
        page the form leads to."""
        page = self.open()
        try:
            chromium.sign_in_with(page, self.issue_key(role, org))
        except AssertionError as refused:
            pytest.fail(f"signing in as {role} of {org} failed: {refused}")
        return page

    def csp_violations(self, page: Page) -> list[str]:
        """The CSP violations `page` has met so far."""
        return self.opened[id(page)][2].violations

    def refused(self) -> list[str]:
        """Every request of these pages that was not to the server (each was aborted)."""
        return [url for _, offline, _ in self.opened.values() for url in offline.refused]

    def close(self) -> None:
        for page, _, _ in self.opened.values():
            page.context.close()


@pytest.fixture
def pages(browser: Browser, web_server: str, issue_key: Callable[[str, str], str]) -> Iterator[Pages]:
    """The test's pages; when it ends, asserts that none asked for anything beyond the loopback server."""
    opened = Pages(browser, web_server, issue_key)
    yield opened
    refused = opened.refused()
    opened.close()
    assert not refused, f"pages asked for addresses beyond the loopback server: {refused}"


@pytest.fixture
def sign_in(pages: Pages) -> Callable[[str, str], Page]:
    """sign_in(role, org) -> a page (1366x768) signed in through the sign-in form with a real key."""
    return pages.sign_in


@pytest.fixture
def open_page(pages: Pages) -> Callable[[], Page]:
    """open_page() -> a page (1366x768) of nobody signed in."""
    return pages.open


@pytest.fixture
def csp_violations(pages: Pages) -> Callable[[Page], list[str]]:
    """csp_violations(page) -> the securitypolicyviolation events and console errors naming CSP it has met."""
    return pages.csp_violations


@pytest.fixture
def api_as(web_server: str, issue_key: Callable[[str, str], str]) -> Iterator[Callable[[str, str], httpx.Client]]:
    """api_as(role, org) -> an httpx client to the server sending a real key for `org`'s `role` as its bearer."""
    clients: list[httpx.Client] = []

    def client(role: str, org: str) -> httpx.Client:
        made = httpx.Client(base_url=web_server, headers={"Authorization": f"Bearer {issue_key(role, org)}"})
        clients.append(made)
        return made

    yield client
    for made in clients:
        made.close()


class SignedIn:
    """A page signed in as the demo's analyst, with what it met: CSP violations, requests beyond the server."""

    def __init__(self, page: Page, offline: chromium.Offline, watch: chromium.CspWatch) -> None:
        self.page = page
        self.offline = offline
        self.watch = watch


@pytest.fixture(scope="module")
def analyst_signed_in(browser: Browser, web_server: str, issue_key: Callable[[str, str], str]) -> Iterator[SignedIn]:
    """One page a test module, signed in through the sign-in form as the analyst (the form limits attempts per
    address a minute); when the module ends, asserts it asked for nothing beyond the server."""
    page, offline, watch = chromium.new_page(browser, web_server)
    org, role = ANALYST
    try:
        chromium.sign_in_with(page, issue_key(role, org))
        yield SignedIn(page, offline, watch)
        assert not offline.refused, f"the page asked for addresses beyond the server: {offline.refused}"
    finally:
        page.context.close()


@pytest.fixture
def analyst(analyst_signed_in: SignedIn) -> Page:
    """The module's page signed in as the analyst."""
    return analyst_signed_in.page


@pytest.fixture
def analyst_api(api_as: Callable[[str, str], httpx.Client]) -> httpx.Client:
    """An API client with a real key of the analyst's."""
    org, role = ANALYST
    return api_as(role, org)


@pytest.fixture
def axe(web_settings: WebSettings) -> Callable[[Page], list[dict[str, Any]]]:
    """axe(page) -> axe-core's WCAG 2.2 AA (and 2.0, 2.1 A/AA) violations on the page as it is now."""
    return lambda page: chromium.run_axe(page, web_settings.assets_dir)


@pytest.fixture
def assert_accessible(axe: Callable[[Page], list[dict[str, Any]]]) -> Callable[[Page], None]:
    """assert_accessible(page): fails with axe's violations, readably, when there are any."""

    def check(page: Page) -> None:
        violations = axe(page)
        assert not violations, f"{page.url} fails WCAG 2.2 AA:\n{chromium.describe_violations(violations)}"

    return check


@pytest.fixture
def wait_drawn() -> Callable[[Page], None]:
    """wait_drawn(page): returns once the page's script has called hub.js drawn() (its map layer or table is in)."""
    return chromium.wait_drawn


@pytest.fixture
def screenshot() -> Callable[[Page, str], Path]:
    """screenshot(page, name) -> a full-page PNG at 1366x768 in tests/browser/screenshots/ (git-ignored)."""
    return chromium.screenshot
