"""What the analyst pages' browser tests share: one signed-in analyst page per test module (the sign-in form limits
attempts per address a minute), waiting for a page's figures, and reading its tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from playwright.sync_api import Browser, Page

from tests.browser.conftest import ANALYST
from tests.support import browser as chromium


class SignedIn:
    """A page signed in as the demo's analyst, with what it met: CSP violations, requests beyond the server."""

    def __init__(self, page: Page, offline: chromium.Offline, watch: chromium.CspWatch) -> None:
        self.page = page
        self.offline = offline
        self.watch = watch


@contextmanager
def analyst_page(browser: Browser, origin: str, issue_key: Callable[[str, str], str]) -> Iterator[SignedIn]:
    """A page signed in through the sign-in form as the analyst; when the block ends, asserts it asked for nothing
    beyond the server."""
    page, offline, watch = chromium.new_page(browser, origin)
    org, role = ANALYST
    try:
        chromium.sign_in_with(page, issue_key(role, org))
        yield SignedIn(page, offline, watch)
        assert not offline.refused, f"the page asked for addresses beyond the server: {offline.refused}"
    finally:
        page.context.close()


def drawn(page: Page, path: str) -> Page:
    """`page` at `path` once its script has drawn the figures, with no problem shown."""
    page.goto(path)
    chromium.wait_drawn(page)
    assert page.locator("#problem").is_hidden(), page.locator("#problem").inner_text()
    return page


def table(page: Page, selector: str) -> list[dict[str, str]]:
    """The rows of the table in `selector`: each cell's text by its column key."""
    rows: list[dict[str, str]] = page.eval_on_selector_all(
        f"{selector} tbody tr",
        "rows => rows.map(r => Object.fromEntries([...r.cells].map(c => [c.dataset.key, c.textContent])))",
    )
    return rows


def shown(value: Any) -> str:
    """How a page shows a count the API gave: the number, or "suppressed" (never 0 or blank)."""
    return "suppressed" if value is None else str(value)


def query_string(query: dict[str, str]) -> str:
    return "&".join(f"{k}={v}" for k, v in query.items())
