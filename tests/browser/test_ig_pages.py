"""The IG lead's console in headless Chromium (issue 15): each page shows exactly what its API call answers for the
same parameters (compared cell by cell), suppressed counts as "suppressed", another role gets the refusal page, the
permalink restores the view, an API problem shows in the error summary; axe finds no WCAG 2.2 AA violation and no
page breaks the Content-Security-Policy. Screenshots: tests/browser/screenshots/ig-<page>.png."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import ANALYST, HUB_IG_LEAD, ORG_IG_LEAD
from tests.support import browser as chromium

pytestmark = [pytest.mark.integration, pytest.mark.browser]

RECIPIENT_IG_LEAD = ("eastbourne-csp", "ig_lead")  # a recipient of aggregates-only clauses

Checks = dict[str, Callable[..., Any]]
Who = tuple[str, str]


@pytest.fixture(scope="module")
def people(browser: Browser, web_server: str, issue_key: Callable[[str, str], str]) -> Iterator[Callable[[Who], Any]]:
    """people((org, role)) -> (page, CSP watch) of that person, signed in once for the module (sign-in attempts are
    rate limited per address); each page offline but for the server."""
    opened: dict[Who, tuple[Page, chromium.Offline, chromium.CspWatch]] = {}

    def person(who: Who) -> tuple[Page, chromium.CspWatch]:
        if who not in opened:
            org, role = who
            opened[who] = chromium.new_page(browser, web_server)
            chromium.sign_in_with(opened[who][0], issue_key(role, org))
        page, _, watch = opened[who]
        return page, watch

    yield person
    refused = [url for _, offline, _ in opened.values() for url in offline.refused]
    for page, _, _ in opened.values():
        page.context.close()
    assert not refused, f"pages asked for addresses beyond the loopback server: {refused}"


@pytest.fixture
def ig(
    people: Callable[[Who], Any],
    api_as: Callable[[str, str], httpx.Client],
    wait_drawn: Callable[[Page], None],
    assert_accessible: Callable[[Page], None],
    screenshot: Callable[[Page, str], Path],
) -> Checks:
    return {
        "people": people,
        "api": api_as,
        "drawn": wait_drawn,
        "accessible": assert_accessible,
        "screenshot": screenshot,
    }


def _open(ig: Checks, who: Who, path: str) -> Page:
    page: Page = ig["people"](who)[0]
    page.goto(path)
    ig["drawn"](page)
    return page


def _csp(ig: Checks, page: Page) -> list[str]:
    for who in (HUB_IG_LEAD, ORG_IG_LEAD, RECIPIENT_IG_LEAD, ANALYST):
        found, watch = ig["people"](who)
        if found is page:
            return list(watch.violations)
    raise AssertionError("not a page of this module")


def _api(ig: Checks, who: Who, endpoint: str, /, **params: str) -> Any:
    org, role = who
    answer = ig["api"](role, org).get(endpoint, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _cells(page: Page, container: str, keys: Sequence[str]) -> list[list[str]]:
    """The text of each row's cells of columns `keys` in the table inside `container`."""
    rows = page.locator(f"#{container} table tbody tr")
    found = []
    for i in range(rows.count()):
        row = rows.nth(i)
        found.append([row.locator(f'td[data-key="{key}"]').inner_text().strip() for key in keys])
    return found


def _text(value: Any) -> str:
    return "suppressed" if value is None else str(value)


def _finish(ig: Checks, page: Page, name: str | None = None) -> None:
    ig["accessible"](page)
    assert _csp(ig, page) == []
    if name:
        ig["screenshot"](page, name)


def test_the_register_shows_every_version_the_api_lists(ig: Checks) -> None:
    page = _open(ig, HUB_IG_LEAD, "/web/ig/")
    register = _api(ig, HUB_IG_LEAD, "/v1/ig/protocols")
    keys = ["label", "version", "valid_from", "review_due", "dpia_reference"]
    assert _cells(page, "register", keys) == [[_text(p[k]) for k in keys] for p in register]
    status = [
        f"{p['status']}, in force" if p["in_force"] else f"{p['status']}, not in force: {p['not_in_force_reason']}"
        for p in register
    ]
    assert _cells(page, "register", ["status"]) == [[s] for s in status]
    signed = _cells(page, "register", ["signatories"])
    assert signed == [["\n".join(p["signatories"])] for p in register]
    due = _api(ig, HUB_IG_LEAD, "/v1/ig/protocols", due_within="90")
    assert page.locator("#due-list li").all_inner_texts() == [
        f"{p['label']} ({p['title']}): review due {p['review_due']}"
        + (f", expires {p['expires']}" if p["expires"] else "")
        for p in due
    ]
    first = page.locator('#register td[data-key="label"] a').first
    assert first.get_attribute("href") == f"/web/ig/protocols/{register[0]['id']}?version={register[0]['version']}"
    assert page.locator("#csv").get_attribute("href") == "/v1/ig/protocols?format=csv"
    _finish(ig, page, "ig-register")


def test_a_protocol_shows_its_clauses_in_the_apis_words(ig: Checks) -> None:
    page = _open(ig, HUB_IG_LEAD, "/web/ig/protocols/police-to-csp-analysts?version=1")
    body = _api(ig, HUB_IG_LEAD, "/v1/ig/protocols/police-to-csp-analysts", version="1")
    for clause in body["terms"]:
        values = page.locator(f"#clause-{clause['id']} .govuk-summary-list__value").all_inner_texts()
        assert [v.strip() for v in values] == [
            "\n".join(clause["recipients"]),
            "\n".join(clause["datasets"]) if len(clause["datasets"]) > 1 else clause["datasets"][0],
            "\n".join(clause["fields"]),
            clause["categories"],
            clause["scope"],
            clause["spatial_precision"],
            clause["temporal_precision"],
            clause["output"],
            clause["disclosure"],
            clause["retention"],
            clause["linkage"],
        ]
    assert page.locator("#field-version").input_value() == "1"
    _finish(ig, page, "ig-protocol")


def test_the_diff_page_shows_the_apis_changes(ig: Checks) -> None:
    page = _open(ig, HUB_IG_LEAD, "/web/ig/protocols/police-to-csp-analysts/diff?from=1&to=1")
    assert (
        _api(ig, HUB_IG_LEAD, "/v1/ig/protocols/police-to-csp-analysts/diff", **{"from": "1", "to": "1"})["changes"]
        == []
    )
    assert page.locator("#changes").inner_text().strip() == "Nothing changed from version 1 to version 1."
    assert (page.locator("#field-from").input_value(), page.locator("#field-to").input_value()) == ("1", "1")
    _finish(ig, page, "ig-diff")


FLOW_KEYS = ["protocol", "clause", "partner", "recipient", "period", "events"]
WITHHELD_KEYS = ["code", "dataset", "partner", "period", "events"]


def test_flows_show_the_apis_figures_for_the_permalinks_filters(ig: Checks) -> None:
    params = {"from": "2019-01-01", "to": "2030-12-31", "partner": "sussex-police"}
    page = _open(ig, HUB_IG_LEAD, "/web/ig/flows?" + urlencode(params))
    flows = _api(ig, HUB_IG_LEAD, "/v1/ig/flows", **params, limit="100")
    assert flows, "the web hub has released flows of sussex-police"
    assert _cells(page, "flows", FLOW_KEYS) == [[_text(f[k]) for k in FLOW_KEYS] for f in flows]
    withheld = _api(ig, HUB_IG_LEAD, "/v1/ig/withheld", **params, limit="100")
    assert _cells(page, "withheld", WITHHELD_KEYS) == [[_text(w[k]) for k in WITHHELD_KEYS] for w in withheld]
    for name, value in params.items():
        assert page.locator(f"#field-{name}").input_value() == value
    csv = page.locator("#flows-csv").get_attribute("href")
    assert csv == "/v1/ig/flows?" + urlencode({**params, "limit": "100", "offset": "0", "format": "csv"})
    _finish(ig, page, "ig-flows")


def test_a_recipients_suppressed_flow_shows_as_suppressed(ig: Checks) -> None:
    org_lead = RECIPIENT_IG_LEAD
    params = {"from": "2019-01-01", "to": "2030-12-31", "recipient": "eastbourne-csp"}
    flows = _api(ig, org_lead, "/v1/ig/flows", **params, limit="100")
    page = _open(ig, org_lead, "/web/ig/flows?" + urlencode(params))
    assert _cells(page, "flows", FLOW_KEYS) == [[_text(f[k]) for k in FLOW_KEYS] for f in flows]
    suppressed = sum(f["events"] is None for f in flows)
    assert page.locator('#flows td.hub-suppressed[data-key="events"]').count() == suppressed
    assert suppressed > 0, "the generated feeds give eastbourne-csp some flow under an aggregates-only clause's rule"
    _finish(ig, page)


def test_withheld_events_by_reason(ig: Checks) -> None:
    page = _open(ig, HUB_IG_LEAD, "/web/ig/withheld")
    withheld = _api(ig, HUB_IG_LEAD, "/v1/ig/withheld", limit="100")
    shown = []
    holders = page.locator("#withheld [data-reason]")
    for i in range(holders.count()):
        holder = holders.nth(i)
        reason = holder.get_attribute("data-reason")
        rows = holder.locator("tbody tr")
        for j in range(rows.count()):
            cells = [rows.nth(j).locator(f'td[data-key="{k}"]').inner_text() for k in WITHHELD_KEYS[1:]]
            shown.append([reason, *cells])
    assert shown == [[_text(w[k]) for k in WITHHELD_KEYS] for w in withheld]
    _finish(ig, page, "ig-withheld")


def test_the_access_log_shows_the_apis_records_for_the_filters(ig: Checks) -> None:
    _api(ig, ORG_IG_LEAD, "/v1/ig/protocols")
    params = {"path": "/v1/ig/protocols", "org": ORG_IG_LEAD[0], "status": "200"}
    page = _open(ig, HUB_IG_LEAD, "/web/ig/access-log?" + urlencode(params))
    records = _api(ig, HUB_IG_LEAD, "/v1/ig/access-log", **params, limit="100")
    assert records
    keys = ["org", "role", "endpoint", "rows", "status"]
    assert _cells(page, "log", keys) == [[_text(r[k]) for k in keys] for r in records]
    assert page.locator("#field-path").input_value() == "/v1/ig/protocols"
    _finish(ig, page, "ig-access-log")


def test_an_organisations_ig_lead_sees_its_own_access_log_only(ig: Checks) -> None:
    page = _open(ig, ORG_IG_LEAD, "/web/ig/access-log")
    orgs = {row[0] for row in _cells(page, "log", ["org"])}
    assert orgs == {ORG_IG_LEAD[0]}
    _finish(ig, page)
    refused = _open(ig, ORG_IG_LEAD, "/web/ig/access-log?org=essex-csp")
    assert "its own organisation" in refused.locator(".govuk-error-summary").inner_text()
    _finish(ig, refused)


def test_retention_shows_the_register_runs_and_retractions(ig: Checks) -> None:
    page = _open(ig, HUB_IG_LEAD, "/web/ig/retention")
    kept = _api(ig, HUB_IG_LEAD, "/v1/ig/retention")
    keys = ["dataset", "field", "retention", "keep_until"]
    assert _cells(page, "register", keys) == [[_text(k[key]) for key in keys] for k in kept]
    runs = _api(ig, HUB_IG_LEAD, "/v1/ig/retention-runs")
    retractions = _api(ig, HUB_IG_LEAD, "/v1/ig/retractions")
    assert page.locator("#runs table tbody tr").count() == len(runs)
    assert page.locator("#retractions table tbody tr").count() == len(retractions)
    _finish(ig, page, "ig-retention")


def test_an_api_problem_shows_in_the_error_summary(ig: Checks) -> None:
    page = _open(ig, HUB_IG_LEAD, "/web/ig/flows?from=1066-10-14")
    summary = page.locator(".govuk-error-summary")
    assert "from must be within the years" in summary.inner_text()
    _finish(ig, page)


def test_an_analyst_gets_the_refusal_page(ig: Checks) -> None:
    page: Page = ig["people"](ANALYST)[0]
    for path in ("/web/ig/", "/web/ig/flows", "/web/ig/withheld", "/web/ig/access-log", "/web/ig/retention"):
        answer = page.goto(path)
        assert answer is not None and answer.status == 403, path
        assert page.locator("h1").inner_text() == "You cannot see this page"
    assert _csp(ig, page) == []
