"""What the analyst pages' browser tests share: waiting for a page's figures, reading its tables, following its
permalink, the refusal page, and the text a cell shows for a figure of the API's answer (worked out here,
independently of the page's script)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

from tests.support import browser as chromium


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


def restored_by_permalink(page: Page, fields: tuple[str, ...]) -> str:
    """The page's permalink, after asserting that opening it afresh restores the form's `fields` and the table."""
    link = page.locator("#permalink").get_attribute("href")
    assert link
    chosen = [page.locator(f).input_value() for f in fields]
    figures = table(page, "#table")
    page.goto("about:blank")
    drawn(page, link)
    assert [page.locator(f).input_value() for f in fields] == chosen
    assert table(page, "#table") == figures
    return link


def refused(page: Page, path: str) -> None:
    """`path` answers `page`'s person with the refusal page (403)."""
    answer = page.goto(path)
    assert answer is not None and answer.status == 403
    assert page.get_by_role("heading", name="You cannot see this page").is_visible()


def fixed(value: float | None, places: int) -> str:
    """A figure to `places` decimals; none: blank."""
    return "" if value is None else f"{value:.{places}f}"


def shown(value: Any, places: int | None = None) -> str:
    """How a page shows a figure the API gave: "suppressed" for a suppressed (null) one (never 0 or blank), else the
    value (to `places` decimals)."""
    if value is None:
        return "suppressed"
    return fixed(value, places) if places is not None else str(value)


def query_string(query: dict[str, str]) -> str:
    return "&".join(f"{k}={v}" for k, v in query.items())
