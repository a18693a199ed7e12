"""How fast the analyst's map and performance pack paint, in headless Chromium, against a running `hub demo`.

For each page, after signing in as the demo analyst through the sign-in form: the first contentful paint and the
page's "drawn" mark (`performance.mark("hub:drawn")`, set by the page script once the map's layer or the pack's
table is drawn: web/static/js/hub.js drawn()), both from navigation start; beside them the page's own API calls
(resource timing, the slowest) and the same API calls made directly with the analyst's key (no browser). Prints a
table of medians over the runs (the first, cold run apart) and the drawn time as a ratio of the target (1.5 s).

    make demo   # then:
    .venv/bin/python -m benchmarks.web_paint [--base http://127.0.0.1:8000] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from deploy.settings import LocalSettings, api_settings
from tests.support import browser as chromium
from web.navigation import NAVIGATION

TARGET_SECONDS = 1.5
PAGES = ("Map", "Performance pack")  # the analyst's pages measured, by their navigation label
KEY_NAME = "HUB_DEMO_ANALYST_KEY"

# Timings of the page's current document, in ms from navigation start (None where the page has not set them).
_TIMINGS = """
() => {
  const first = (entries) => (entries.length ? entries[0].startTime : null);
  const api = performance.getEntriesByType("resource").filter((e) => new URL(e.name).pathname.startsWith("/v1/"));
  return {
    fcp: first(performance.getEntriesByName("first-contentful-paint")),
    drawn: first(performance.getEntriesByName("hub:drawn", "mark")),
    api: api.length ? Math.max(...api.map((e) => e.duration)) : null,
    calls: api.map((e) => e.name),
  };
}
"""


@dataclass(frozen=True)
class Run:
    """One load of a page: milliseconds from navigation start, and the API URLs it called."""

    fcp: float
    drawn: float
    api: float | None
    calls: list[str]


def _demo_key(keys_file: Path) -> str:
    pairs = dict(line.split("=", 1) for line in keys_file.read_text().splitlines() if "=" in line)
    if KEY_NAME not in pairs:
        sys.exit(f"no {KEY_NAME} in {keys_file}: run `make demo` first")
    return pairs[KEY_NAME]


def _load(page: Page, path: str, timeout_ms: float, pause: float) -> Run:
    """One load of `path`, after `pause` seconds (the API's per-address rate limit counts the page's files too)."""
    time.sleep(pause)
    page.goto("about:blank")
    page.goto(path)
    try:
        chromium.wait_drawn(page, timeout_ms)  # (wait_for_function's predicate would be refused by the page's CSP)
    except PlaywrightTimeout:
        sys.exit(f"{path} was not drawn within {timeout_ms / 1000:.0f} s (a 429 from the rate limit? see api.log)")
    timings = page.evaluate(_TIMINGS)
    return Run(timings["fcp"], timings["drawn"], timings["api"], timings["calls"])


def _direct_ms(client: httpx.Client, urls: list[str], runs: int) -> float | None:
    """Median milliseconds of the slowest of the page's API calls made directly with the key."""
    if not urls:
        return None
    times = []
    for _ in range(runs):
        slowest = 0.0
        for url in urls:
            started = time.perf_counter()
            client.get(url).raise_for_status()
            slowest = max(slowest, (time.perf_counter() - started) * 1000)
        times.append(slowest)
    return statistics.median(times)


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:8.0f}"


def main() -> None:
    settings = api_settings()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default=f"http://{settings.host}:{settings.port}", help="the running hub's API")
    parser.add_argument("--keys-file", type=Path, default=LocalSettings().home.resolve() / "demo-keys.env")
    parser.add_argument("--runs", type=int, default=4, help="loads of each page (the first one cold)")
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for a page's drawn mark")
    parser.add_argument("--pause", type=float, default=8, help="seconds between loads (the API's rate limits)")
    args = parser.parse_args()
    base = args.base.rstrip("/")
    key = _demo_key(args.keys_file)
    hrefs = {label: href for href, label in NAVIGATION["analyst"]}
    rows = []
    with sync_playwright() as playwright, httpx.Client(base_url=base, timeout=60) as api:
        api.headers["Authorization"] = f"Bearer {key}"
        browser = chromium.launch(playwright)
        page, offline, watch = chromium.new_page(browser, base)
        chromium.sign_in_with(page, key)
        for label in PAGES:
            loads = [_load(page, hrefs[label], args.timeout * 1000, args.pause) for _ in range(max(args.runs, 2))]
            cold, warm = loads[0], loads[1:]
            calls = [urlsplit(url)._replace(scheme="", netloc="").geturl() for url in warm[-1].calls]
            rows.append(
                (
                    label,
                    cold.drawn,
                    statistics.median(run.fcp for run in warm),
                    statistics.median(run.drawn for run in warm),
                    _median([run.api for run in warm if run.api is not None]),
                    _direct_ms(api, calls, len(warm)),
                )
            )
        browser.close()
    if offline.refused or watch.violations:
        sys.exit(f"the pages reached beyond {base} ({offline.refused}) or broke the CSP ({watch.violations})")
    print(f"{'page':<18} {'cold drawn':>10} {'FCP':>8} {'drawn':>8} {'page API':>8} {'API':>8} {'drawn/target':>12}")
    for label, cold_drawn, fcp, drawn, page_api, direct in rows:
        ratio = drawn / (TARGET_SECONDS * 1000)
        print(f"{label:<18} {_ms(cold_drawn):>10} {_ms(fcp)} {_ms(drawn)} {_ms(page_api)} {_ms(direct)} {ratio:12.2f}")
    print(
        f"ms from navigation start, medians of {max(args.runs, 2) - 1} warm loads; page API: the slowest /v1/ call "
        f"the page made (resource timing); API: the same calls made directly; target: drawn under {TARGET_SECONDS} s"
    )


if __name__ == "__main__":
    main()
