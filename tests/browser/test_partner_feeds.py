"""The partner's page /web/partner/ in headless Chromium, signed in as a partner of the loaded demo feeds: it shows
exactly what /v1/dq, /v1/partner/flows and /v1/partner/settings answer that partner (cell by cell), only its own
feeds, restores its view from its address, shows the API's problems, refuses other roles, and passes axe and the
CSP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import Dialog, Page

pytestmark = [pytest.mark.integration, pytest.mark.browser]

PARTNER = ("partner", "sussex-police")  # (role, org): publishes the demo's police records
OTHER = ("partner", "police-uk")  # publishes the police.uk street file
PAGE = "/web/partner/"

# How the page words what the API answers (its own words; the figures are the API's).
STATUS = {
    "ok": "OK",
    "low": "Low: under half the usual week",
    "silent": "Silent: nothing in the last 7 days",
    "no_data": "No data received",
}
OUTPUT = {"record_level": "Records", "aggregates_only": "Counts only"}
WEEKS = [8, 7, 6, 5, 4, 3, 2, 1]


def _number(value: float) -> str:
    """A number as the page writes it (JavaScript's String: 12.0 is "12")."""
    return str(int(value)) if float(value).is_integer() else str(value)


def _percent(share: float | None) -> str:
    return "no events" if share is None else f"{share * 100:.1f}%"


def _moment(iso: str | None) -> str:
    return f"{iso[:10]} {iso[11:16]} UTC" if iso else "never"


def _table(page: Page, container: str) -> list[dict[str, str]]:
    """The rows of the table in `container`: each cell's text by its column key (data-key)."""
    rows: list[dict[str, str]] = page.eval_on_selector_all(
        f"{container} table tbody tr",
        "rows => rows.map(r => Object.fromEntries([...r.cells].map(c => [c.dataset.key, c.textContent])))",
    )
    return rows


def _drawn(page: Page, path: str = PAGE) -> Page:
    page.goto(path)
    page.locator("html[data-hub-drawn]").wait_for()
    return page


def _quality_rows(report: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {
            "dataset": f["dataset"],
            "status": STATUS[f["volume"]["status"]],
            "last_seen": _moment(f["volume"]["last_seen"]),
            "events": _number(f["events"]),
            "released": _number(f["released"]),
            "withheld": _number(f["withheld"]),
            "geocodable": f"{f['geocodable']} ({_percent(f['geocodable_share'])})",
            "duplicates": _number(f["duplicates"]),
            "late": f"{f['late']} ({_percent(f['late_share'])})",
            "retracted": _number(f["retracted"]),
            "dead_lettered": _number(f["dead_lettered"]),
        }
        for f in report["feeds"]
    ]


def _volume_rows(report: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {
            "dataset": f["dataset"],
            **{f"week_{n}": _number(f["volume"]["weekly"][n - 1]) for n in WEEKS},
            "last_7_days": _number(f["volume"]["last_7_days"]),
            "usual_weekly": _number(f["volume"]["usual_weekly"]),
        }
        for f in report["feeds"]
    ]


def _completeness_rows(report: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {"dataset": f["dataset"], "field": c["field"], "present": _number(c["present"]), "share": _percent(c["share"])}
        for f in report["feeds"]
        for c in f["completeness"]
    ]


def _flow_rows(flows: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [
        {
            "dataset": f["dataset"],
            "recipient_name": f["recipient_name"],
            "fields": ", ".join(f["fields"]),
            "spatial_precision": f["spatial_precision"] or "not shared",
            "temporal_precision": f["temporal_precision"] or "not shared",
            "output": OUTPUT[f["output"]],
            "disclosure": f["disclosure"],
            "protocol": f"{f['protocol']} § {f['clause']}",
            "in_force": "Yes" if f["in_force"] else f"No: {f['not_in_force_reason']}",
        }
        for f in flows
    ]


@pytest.fixture
def partner_page(sign_in: Callable[[str, str], Page]) -> Page:
    return _drawn(sign_in(*PARTNER))


@pytest.fixture
def partner_api(api_as: Callable[[str, str], httpx.Client]) -> httpx.Client:
    return api_as(*PARTNER)


def test_the_quality_table_shows_what_the_data_quality_report_answers(
    partner_page: Page, partner_api: httpx.Client
) -> None:
    report = partner_api.get("/v1/dq").raise_for_status().json()
    assert any(f["events"] > 0 for f in report["feeds"])  # the partner's demo feed was loaded
    assert _table(partner_page, "#quality") == _quality_rows(report)


def test_the_weekly_volume_and_completeness_tables_show_the_report(
    partner_page: Page, partner_api: httpx.Client
) -> None:
    report = partner_api.get("/v1/dq").raise_for_status().json()
    assert _table(partner_page, "#volume") == _volume_rows(report)
    assert _table(partner_page, "#completeness") == _completeness_rows(report)


def test_the_volume_chart_is_drawn_beside_its_table(partner_page: Page) -> None:
    figure = partner_page.locator("#volume-figure")
    assert figure.is_visible()
    assert partner_page.locator("#volume-chart svg").count() == 1
    assert partner_page.locator("#volume-chart").get_attribute("aria-hidden") == "true"


def test_the_flows_table_shows_what_the_protocols_let_flow(partner_page: Page, partner_api: httpx.Client) -> None:
    flows = partner_api.get("/v1/partner/flows").raise_for_status().json()
    assert flows
    assert _table(partner_page, "#flows") == _flow_rows(flows)
    assert partner_page.locator("#flows-csv").get_attribute("href") == "/v1/partner/flows?format=csv"


def test_the_publishing_settings_are_the_partners_own(partner_page: Page, partner_api: httpx.Client) -> None:
    settings = partner_api.get("/v1/partner/settings").raise_for_status().json()
    summary = partner_page.locator("#settings .govuk-summary-list__value").all_text_contents()
    assert summary == [settings["partner"], settings["username"], settings["topic_prefix"], "given by the hub operator"]
    assert _table(partner_page, "#settings") == [
        {
            "dataset": f["dataset"],
            "topic": f["topic"],
            "command": f"hub publish {f['dataset']} FILE --partner {settings['partner']}",
            "protocols": ", ".join(f["protocols"]),
        }
        for f in settings["feeds"]
    ]
    text = partner_page.locator("main").inner_text().lower()
    assert "password" in text and "never shown here" in text  # says where the secret comes from, shows none
    assert partner_page.locator("input[type='file']").count() == 0  # nothing is uploaded


def test_the_page_shows_only_the_partners_own_feeds(partner_page: Page, partner_api: httpx.Client) -> None:
    own = {f["dataset"] for f in partner_api.get("/v1/partner/settings").json()["feeds"]}
    for container in ("#quality", "#volume", "#completeness", "#flows", "#settings"):
        assert {row["dataset"] for row in _table(partner_page, container)} <= own
    options = partner_page.locator("#dataset option").evaluate_all("options => options.map(o => o.value)")
    assert set(options) == {"", *own}


def test_another_partner_sees_its_own_feeds_not_these(
    sign_in: Callable[[str, str], Page], api_as: Callable[[str, str], httpx.Client]
) -> None:
    page = _drawn(sign_in(*OTHER))
    report = api_as(*OTHER).get("/v1/dq").raise_for_status().json()
    assert _table(page, "#quality") == _quality_rows(report)
    topics = [row["topic"] for row in _table(page, "#settings")]
    assert topics and all(topic.endswith(f".{OTHER[1]}") for topic in topics)
    assert f"partner.{PARTNER[1]}" not in page.locator("main").inner_text()


def test_a_partner_cannot_ask_for_another_partners_feeds(
    partner_page: Page, partner_api: httpx.Client, csp_violations: Callable[[Page], list[str]]
) -> None:
    assert partner_api.get("/v1/dq", params={"partner": OTHER[1]}).status_code == 403
    from_page = partner_page.evaluate("fetch('/v1/dq?partner=police-uk').then(r => r.status)")
    assert from_page == 403  # with the partner's own session
    shown = _drawn(partner_page, f"{PAGE}?partner={OTHER[1]}")
    assert {row["dataset"] for row in _table(shown, "#quality")} <= {
        f["dataset"] for f in partner_api.get("/v1/dq").json()["feeds"]
    }


def test_the_permalink_restores_the_view(partner_page: Page, partner_api: httpx.Client) -> None:
    dataset = partner_api.get("/v1/partner/settings").json()["feeds"][0]["dataset"]
    partner_page.select_option("#dataset", dataset)
    partner_page.fill("#late_days", "10")
    with partner_page.expect_navigation():
        partner_page.get_by_role("button", name="Show").click()
    partner_page.locator("html[data-hub-drawn]").wait_for()
    assert partner_page.url.endswith(f"{PAGE}?dataset={dataset}&late_days=10")
    report = partner_api.get("/v1/dq", params={"dataset": dataset, "late_days": 10}).json()
    flows = partner_api.get("/v1/partner/flows", params={"dataset": dataset}).json()
    again = _drawn(partner_page, partner_page.url)
    assert again.input_value("#dataset") == dataset and again.input_value("#late_days") == "10"
    assert _table(again, "#quality") == _quality_rows(report)
    assert _table(again, "#flows") == _flow_rows(flows)
    assert again.locator("#flows-csv").get_attribute("href") == f"/v1/partner/flows?dataset={dataset}&format=csv"


def test_an_api_problem_is_shown_in_an_error_summary(partner_page: Page, partner_api: httpx.Client) -> None:
    problem = partner_api.get("/v1/dq", params={"late_days": "soon"})
    assert problem.status_code in (400, 422)
    page = _drawn(partner_page, f"{PAGE}?late_days=soon")
    summary = page.locator(".govuk-error-summary")
    assert summary.count() == 1
    detail = problem.json().get("detail") or problem.json()["title"]
    assert f"Data quality: {detail}" in summary.inner_text()
    assert page.evaluate("document.activeElement.classList.contains('govuk-error-summary')")  # announced first
    assert _table(page, "#flows")  # the other sections still show


def test_markup_in_the_address_is_never_run(partner_page: Page, csp_violations: Callable[[Page], list[str]]) -> None:
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    partner_page.on("dialog", record)
    attack = "%22%3E%3Cscript%3Ealert(1)%3C/script%3E%3Cimg%20src=x%20onerror=alert(2)%3E"
    page = _drawn(partner_page, f"{PAGE}?dataset={attack}&late_days={attack}")
    assert dialogs == []
    assert page.locator("main script, main img").count() == 0
    assert page.input_value("#late_days") == '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    assert page.locator(".govuk-error-summary").count() == 1  # the API refused the malformed parameters
    assert csp_violations(page) == []


@pytest.mark.parametrize("who", [("analyst", "eastbourne-csp"), ("ig_lead", "hub")])
def test_other_roles_get_the_refusal_page(sign_in: Callable[[str, str], Page], who: tuple[str, str]) -> None:
    page = sign_in(*who)
    response = page.goto(PAGE)
    assert response is not None and response.status == 403
    assert page.locator("#quality").count() == 0


def test_the_page_passes_axe_and_the_csp(
    partner_page: Page,
    assert_accessible: Callable[[Page], None],
    csp_violations: Callable[[Page], list[str]],
    screenshot: Callable[[Page, str], Any],
) -> None:
    assert_accessible(partner_page)
    assert csp_violations(partner_page) == []
    screenshot(partner_page, "partner-feeds")
