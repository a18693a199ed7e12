"""The API's documentation pages in headless Chromium, with no network beyond the loopback server: /docs (Swagger
UI) shows every operation of the OpenAPI document, and /redoc (ReDoc) renders them too."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Page

pytestmark = [pytest.mark.integration, pytest.mark.browser]

REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}


def _operations(web_server: str) -> dict[tuple[str, str], str]:
    """The OpenAPI document's operations: (METHOD, path) -> operationId."""
    document = httpx.get(f"{web_server}/openapi.json").raise_for_status().json()
    return {
        (method.upper(), path): operation["operationId"]
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def test_swagger_ui_shows_every_operation(
    web_server: str, open_page: Callable[[], Page], csp_violations: Callable[[Page], list[str]]
) -> None:
    operations = _operations(web_server)
    assert len(operations) > 10  # the document is the API's, not an empty one
    page = open_page()
    page.goto("/docs")
    page.locator(".opblock").first.wait_for()
    blocks = page.locator(".opblock").all()
    shown = [
        (
            block.locator(".opblock-summary-method").inner_text().strip(),
            block.locator(".opblock-summary-path").get_attribute("data-path"),
        )
        for block in blocks
    ]
    assert len(shown) == len(operations) and set(shown) == set(operations)
    assert csp_violations(page) == []


def test_redoc_renders_every_operation(
    web_server: str, open_page: Callable[[], Page], csp_violations: Callable[[Page], list[str]]
) -> None:
    operations = _operations(web_server)
    page = open_page()
    page.goto("/redoc")
    rendered = page.locator('[data-section-id*="operation/"]')  # an operation's section (and its tag's copy)
    rendered.first.wait_for()
    sections = [section.get_attribute("data-section-id") or "" for section in rendered.all()]
    assert {section.rsplit("operation/", 1)[1] for section in sections} == set(operations.values())
    # ReDoc (2.5.4) always shows Redocly's logo from its CDN; the policy refuses it, so nothing leaves the machine.
    # Any other violation (a script, a style, a connection) fails.
    assert [v for v in csp_violations(page) if REDOCLY_LOGO not in v or "img-src" not in v] == []
