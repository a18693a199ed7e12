"""The analyst's map and trends pages as the route renders them: the form filled from the URL (the permalink), the
choices the API answers, only external scripts (the Content-Security-Policy allows no inline script), and what a
hostile query value becomes (text, never markup)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import get_args

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.caller import Caller
from api.schemas.rates import DenominatorName
from web.install import install_web
from web.routes.analyst import AnalystDep
from web.settings import WebSettings
from web.viewer import Viewer

CHECKOUT = Path(__file__).resolve().parents[3]  # the front-end packages are installed here (npm ci)


class Page(HTMLParser):
    """The parts of a page these tests look at: fields and their values, scripts, event-handler attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: dict[str, str] = {}
        self.checked: set[str] = set()
        self.selected: dict[str, list[str]] = {}
        self.options: dict[str, list[str]] = {}
        self.scripts: list[str | None] = []
        self.inline_script = False
        self.handlers: list[str] = []
        self.data_basemap: str | None = None
        self._select: str | None = None
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.handlers += [name for name, _ in attrs if name.startswith("on")]
        if tag == "input" and found.get("type") in ("text", None):
            self.inputs[str(found["name"])] = found.get("value") or ""
        elif tag == "input" and "checked" in found:
            self.checked.add(f"{found['name']}={found['value']}")
        elif tag == "select":
            self._select = str(found["name"])
            self.options.setdefault(self._select, [])
        elif tag == "option" and self._select is not None:
            self.options[self._select].append(found.get("value") or "")
            if "selected" in found:
                self.selected.setdefault(self._select, []).append(found.get("value") or "")
        elif tag == "script":
            self.scripts.append(found.get("src"))
            self._in_script = True
        if found.get("id") == "map":
            self.data_basemap = found.get("data-basemap")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_script = True


def _app(basemap: str | None = None) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None)  # the web application serves those itself
    install_web(app, WebSettings(assets_dir=CHECKOUT, basemap_url=basemap))
    [depends] = get_args(AnalystDep)[1:]  # Annotated[Viewer, Depends(role_page("analyst"))]
    assert depends.dependency is not None
    app.dependency_overrides[depends.dependency] = lambda: Viewer(Caller("eastbourne-csp", "analyst"), "token")
    return app


def _page(path: str, basemap: str | None = None) -> Page:
    response = TestClient(_app(basemap)).get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    page = Page()
    page.feed(response.text)
    return page


PERMALINK = "dataset=police-uk-street&category=burglary&level=lsoa&from=2019-01&to=2019-03"


def test_the_map_permalink_fills_the_form() -> None:
    page = _page(f"/web/analyst/?{PERMALINK}&measure=rates&denominator=adults&hotspots=on")
    assert page.inputs == {"from": "2019-01", "to": "2019-03"}
    assert page.selected["dataset"] == ["police-uk-street"]
    assert page.selected["category"] == ["burglary"]
    assert page.selected["level"] == ["lsoa"]
    assert page.checked == {"measure=rates", "hotspots=on"}
    assert page.options["level"] == ["ward", "lsoa", "lad"]  # the levels of api.params the map offers
    assert page.selected["denominator"] == ["adults"]
    assert sorted(page.options["denominator"]) == sorted(get_args(DenominatorName))  # those /v1/rates answers


def test_the_map_without_parameters_offers_counts_by_ward() -> None:
    page = _page("/web/analyst/")
    assert page.inputs == {"from": "", "to": ""}
    assert page.selected["level"] == ["ward"]
    assert page.checked == {"measure=counts"}
    assert page.selected["denominator"] == ["persons"]
    assert page.data_basemap == ""


def test_the_trends_permalink_fills_the_form() -> None:
    page = _page(f"/web/analyst/trends?{PERMALINK}&period=financial_year&area=E05011234")
    assert page.inputs == {"from": "2019-01", "to": "2019-03"}
    assert page.selected["period"] == ["financial_year"]
    assert page.selected["area"] == ["E05011234"]
    assert page.options["period"] == ["month", "quarter", "financial_year", "rolling_12"]


@pytest.mark.parametrize("path", ["/web/analyst/", "/web/analyst/trends"])
def test_pages_have_only_external_scripts_and_no_event_handlers(path: str) -> None:
    page = _page(path)
    assert not page.inline_script
    assert not page.handlers
    assert all(src is not None and src.startswith(("/static/js/", "/assets/")) for src in page.scripts)
    assert f"/static/js/analyst-{'map' if path.endswith('/') else 'trends'}.js" in page.scripts


def test_a_hostile_query_value_is_text() -> None:
    attack = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    response = TestClient(_app()).get("/web/analyst/", params={"dataset": attack, "from": attack})
    assert response.status_code == 200
    assert "<script>alert" not in response.text and "<img" not in response.text
    assert re.search(r"&lt;script&gt;alert\(1\)", response.text)


def test_the_basemap_setting_reaches_the_map() -> None:
    page = _page("/web/analyst/", basemap="https://tiles.example/{z}/{x}/{y}.png")
    assert page.data_basemap == "https://tiles.example/{z}/{x}/{y}.png"
