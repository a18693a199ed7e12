"""Headless Chromium for the web application's tests and benchmark: launched for a closed network, kept offline
(nothing but the loopback server answers), watched for Content-Security-Policy violations, checked with axe-core
and photographed."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright, Route

CHROMIUM = "/usr/bin/chromium"
# The machine's closed network refuses Chromium's own background connections; these turn them off.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1366, "height": 768}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_SCRIPT = Path("node_modules/axe-core/axe.min.js")  # under the web settings' assets_dir
SIGN_IN = "/web/sign-in"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "browser" / "screenshots"

# Reports each securitypolicyviolation event of every document the page loads to the Python side.
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__hubCspViolation(`${event.effectiveDirective} blocked ${event.blockedURI || "(inline)"} ` +
    `in ${event.documentURI} (${event.sourceFile || "?"}:${event.lineNumber})`);
});
"""


def launch(playwright: Playwright) -> Browser:
    """Headless Chromium (the machine's), without its background network traffic."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@dataclass
class Offline:
    """Routes a browser context so that only `origin` (the loopback server) is reached; every other request is
    aborted and kept in `refused` for the test to assert on."""

    origin: str
    refused: list[str] = field(default_factory=list)

    def attach(self, context: BrowserContext) -> None:
        context.route("**/*", self._route)

    def _route(self, route: Route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in {"data", "blob"} or f"{parts.scheme}://{parts.netloc}" == self.origin:
            route.continue_()
        else:
            self.refused.append(url)
            route.abort("blockedbyclient")


@dataclass
class CspWatch:
    """The Content-Security-Policy violations a page meets: securitypolicyviolation events and console messages
    naming the policy."""

    violations: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.expose_binding("__hubCspViolation", lambda _source, text: self.violations.append(str(text)))
        page.add_init_script(_CSP_LISTENER)
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.violations.append(f"console {message.type}: {message.text}")


def new_page(browser: Browser, origin: str, **context_options: Any) -> tuple[Page, Offline, CspWatch]:
    """A page in a new 1366x768 context, offline but for `origin`, its CSP violations watched."""
    context = browser.new_context(viewport=VIEWPORT, base_url=origin, **context_options)  # type: ignore[arg-type]
    offline = Offline(origin)
    offline.attach(context)
    page = context.new_page()
    watch = CspWatch()
    watch.attach(page)
    return page, offline, watch


def sign_in_with(page: Page, key: str) -> None:
    """Sign `page` in through the sign-in form with API key `key`; it is left on the page the form leads to (the
    role's home). Raises AssertionError, with the form's error, when the form refuses the key."""
    page.goto(SIGN_IN)
    page.get_by_label("API key").fill(key)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    if urlsplit(page.url).path == SIGN_IN:
        errors = page.locator(".govuk-error-summary, .govuk-error-message").all_inner_texts()
        raise AssertionError(f"the sign-in form refused the key: {errors or page.url}")


def wait_drawn(page: Page, timeout_ms: float = 30_000) -> None:
    """Wait until `page`'s script has drawn its figure (hub.js drawn(): `data-hub-drawn` on the root element)."""
    page.locator("html[data-hub-drawn]").wait_for(state="attached", timeout=timeout_ms)


def run_axe(page: Page, assets_dir: Path) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.0/2.1/2.2 A and AA violations on `page` as it is now (the script evaluated through the
    DevTools protocol, which the page's Content-Security-Policy does not govern)."""
    script = assets_dir / AXE_SCRIPT
    if not script.is_file():
        raise FileNotFoundError(f"axe-core is not installed: {script} is missing (npm ci in {assets_dir})")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(script.read_text(encoding="utf-8"))
    violations: list[dict[str, Any]] = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}}).then((result) => result.violations)",
        AXE_TAGS,
    )
    return violations


def describe_violations(violations: list[dict[str, Any]]) -> str:
    """axe's violations, one rule a paragraph: its id, impact and help, then each offending element's selector and
    what to fix."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation.get('impact')}): {violation['help']} <{violation['helpUrl']}>")
        for node in violation["nodes"]:
            lines.append(f"  {json.dumps(node['target'])}: {node.get('failureSummary', '').replace(chr(10), ' ')}")
    return "\n".join(lines)


def screenshot(page: Page, name: str, directory: Path = SCREENSHOTS) -> Path:
    """A full-page PNG of `page` as `directory`/`name`.png (a viewport of 1366x768)."""
    if not name or Path(name).name != name:
        raise ValueError(f"a screenshot's name is a plain file name, not {name!r}")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.png"
    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
    page.screenshot(path=str(path), full_page=True)
    return path
