"""The analyst's performance pages as the routes render them (before any script runs): the form (the permalink's
fields filled from the URL), the containers, the page's own script module, nothing inline; and the quarters
offered. The role check and the figures are the browser tests' (real sign-in, real API)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.caller import Caller
from web.caller_areas import Choice
from web.install import install_web
from web.routes.performance import ANALYST, financial_quarters, pack_datasets, viewer_csps, viewer_datasets
from web.settings import WebSettings
from web.viewer import Viewer

CHECKOUT = Path(__file__).resolve().parents[3]
PAGES = {
    "scorecard": "/static/js/analyst-scorecard.js",
    "hotspots": "/static/js/analyst-hotspots.js",
    "repeats": "/static/js/analyst-repeats.js",
    "cohorts": "/static/js/analyst-cohorts.js",
    "pack": "/static/js/analyst-pack.js",
}
CSPS = [Choice("E22000295", "E22000295"), Choice("E22000296", "E22000296")]
DATASETS = ["council-asb", "police-records"]


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    """The web pages alone, for a signed-in Eastbourne CSP analyst choosing between two CSPs and two datasets."""
    app = FastAPI(docs_url=None, redoc_url=None)  # the web app serves the API reference itself
    install_web(app, WebSettings(assets_dir=CHECKOUT))  # the front-end packages installed in this checkout
    app.dependency_overrides[ANALYST] = lambda: Viewer(Caller("eastbourne-csp", "analyst"), "csrf-token")
    app.dependency_overrides[viewer_csps] = lambda: CSPS
    app.dependency_overrides[viewer_datasets] = lambda: DATASETS
    app.dependency_overrides[pack_datasets] = lambda: ["police-records"]  # as the CSP indicators' would be
    with TestClient(app) as test_client:
        yield test_client


@pytest.mark.parametrize(("page", "script"), PAGES.items())
def test_each_page_loads_its_own_script_module_and_nothing_inline(client: TestClient, page: str, script: str) -> None:
    html = client.get(f"/web/analyst/{page}").text
    assert f'<script type="module" src="{script}"></script>' in html
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []  # no script without src: no inline body
    assert not re.search(r"\son[a-z]+\s*=", html) and "javascript:" not in html


@pytest.mark.parametrize("page", PAGES)
def test_each_page_has_the_error_summary_the_script_shows_problems_in(client: TestClient, page: str) -> None:
    html = client.get(f"/web/analyst/{page}").text
    assert 'id="problems" tabindex="-1" hidden' in html and 'id="problem-list"' in html


@pytest.mark.parametrize("page", PAGES)
def test_each_scripts_module_exists(client: TestClient, page: str) -> None:
    response = client.get(PAGES[page])
    assert response.status_code == 200 and "drawn" in response.text


def test_the_scorecard_permalink_fills_the_form(client: TestClient) -> None:
    html = client.get("/web/analyst/scorecard", params={"csp": "E22000296", "as_of": "2026-01"}).text
    assert '<option value="E22000296" selected>' in html and '<option value="E22000295">' in html
    assert 'name="as_of" type="text" value="2026-01"' in html


def test_the_hotspots_permalink_fills_the_form(client: TestClient) -> None:
    query = {"dataset": "police-records", "from": "2025-04", "to": "2025-06", "area": "E22000295", "level": "ward"}
    html = client.get("/web/analyst/hotspots", params={**query, "area_level": "csp"}).text
    assert '<option value="police-records" selected>' in html
    assert 'name="from" type="text" value="2025-04"' in html and 'name="to" type="text" value="2025-06"' in html
    assert 'name="area" type="text" value="E22000295"' in html
    assert re.search(r'name="area_level">.*<option value="csp" selected>', html, re.S)


def test_the_repeats_permalink_fills_the_form(client: TestClient) -> None:
    html = client.get("/web/analyst/repeats", params={"measure": "marac", "from": "2025-04", "to": "2026-03"}).text
    assert '<option value="marac" selected>' in html and 'name="to" type="text" value="2026-03"' in html


def test_the_cohorts_permalink_fills_the_form(client: TestClient) -> None:
    html = client.get("/web/analyst/cohorts", params={"from": "2024-04", "to": "2026-03", "cohort": "iom-flex"}).text
    assert '<option value="iom-flex" selected>' in html and 'name="from" type="text" value="2024-04"' in html


def test_the_pack_permalink_fills_the_form(client: TestClient) -> None:
    quarter = financial_quarters(date.today())[3].value
    html = client.get(
        "/web/analyst/pack", params={"csp": "E22000295", "quarter": quarter, "dataset": "police-records"}
    ).text
    assert '<option value="E22000295" selected>' in html and f'<option value="{quarter}" selected>' in html
    assert re.search(r'type="checkbox" value="police-records" checked>', html)
    assert re.search(r'type="checkbox" value="council-asb">', html)  # not asked for: unchecked


def test_the_pack_without_parameters_shows_the_first_csp_the_last_complete_quarter_and_the_indicators_data(
    client: TestClient,
) -> None:
    html = client.get("/web/analyst/pack").text
    last_complete = financial_quarters(date.today())[1].value
    assert '<option value="E22000295" selected>' in html and f'<option value="{last_complete}" selected>' in html
    assert 'value="police-records" checked>' in html and 'value="council-asb">' in html


def test_a_csp_not_offered_is_still_the_one_asked_for(client: TestClient) -> None:
    """The permalink of another CSP shows that CSP in the form (the API then answers for it, or says why not)."""
    for page in ("scorecard", "pack"):
        html = client.get(f"/web/analyst/{page}", params={"csp": "E22000001"}).text
        assert '<option value="E22000001" selected>E22000001</option>' in html, page


def test_the_pack_prints_with_its_own_style_sheet(client: TestClient) -> None:
    html = client.get("/web/analyst/pack").text
    assert '<link rel="stylesheet" href="/static/css/print.css" media="print">' in html
    css = client.get("/static/css/print.css").text
    assert "size: A4" in css and "break-before: page" in css and ".govuk-service-navigation" in css


def test_markup_in_a_parameter_is_escaped(client: TestClient) -> None:
    attack = '"><script src="//evil.example/x.js"></script>'
    html = client.get("/web/analyst/hotspots", params={"area": attack, "from": attack}).text
    assert 'evil.example/x.js"></script>' not in html and "&#34;&gt;&lt;script" in html


def test_an_overlong_parameter_is_a_4xx_not_an_error(client: TestClient) -> None:
    response = client.get("/web/analyst/repeats", params={"area": "E" * 5000})
    assert response.status_code == 422


def test_quarters_are_financial_newest_first() -> None:
    quarters = financial_quarters(date(2026, 12, 3), count=5)
    assert [q.value for q in quarters] == ["2026-10", "2026-07", "2026-04", "2026-01", "2025-10"]
    assert quarters[0].label == "Q3 2026/27 (October to December 2026)"
    assert quarters[3].label == "Q4 2025/26 (January to March 2026)"
    assert quarters[2].label == "Q1 2026/27 (April to June 2026)"


@pytest.mark.parametrize(("today", "first"), [(date(2026, 1, 31), "2026-01"), (date(2026, 4, 1), "2026-04")])
def test_the_first_quarter_is_the_one_today_is_in(today: date, first: str) -> None:
    assert financial_quarters(today, count=1)[0].value == first


def test_the_scorecard_without_parameters_is_the_first_csps(client: TestClient) -> None:
    html = client.get("/web/analyst/scorecard").text
    assert '<option value="E22000295" selected>' in html and '<option value="">' not in html
