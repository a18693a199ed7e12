"""/docs and /redoc come from the installed packages, not a CDN: every script, style sheet and document they load is
the hub's own and is served, and no script is inline (the Content-Security-Policy forbids it)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.factory import create_app
from deploy.protocol_files import register_at
from geography.settings import GeocoderSettings
from warehouse.settings import WarehouseSettings
from web.install import install_web
from web.settings import WebSettings

URL = "postgresql+psycopg://nobody@127.0.0.1:9/none"  # never connected to: these answers need no warehouse
CHECKOUT = Path(__file__).resolve().parents[3]
REFERENCING = {"src", "href", "spec-url", "action", "srcset", "data"}


class References(HTMLParser):
    """The URLs a page references, and the bodies of its script elements."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.script_bodies: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in REFERENCING and value is not None]
        self.in_script = tag == "script"
        if self.in_script:
            self.script_bodies.append("")

    def handle_endtag(self, tag: str) -> None:
        self.in_script = False

    def handle_data(self, data: str) -> None:
        if self.in_script:
            self.script_bodies[-1] += data


def web_app(cdn_docs: bool = False) -> FastAPI:
    app = create_app(WarehouseSettings(url=URL), register_at([]), GeocoderSettings(), cdn_docs=cdn_docs)
    install_web(app, WebSettings(assets_dir=CHECKOUT))
    return app


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_a_reference_page_loads_only_the_hubs_own_files_and_each_is_served(page: str) -> None:
    client = TestClient(web_app())
    answer = client.get(page)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    found = References()
    found.feed(answer.text)
    assert found.urls, "the page loads its scripts"
    for url in found.urls:
        assert url.startswith(("/assets/", "/static/", "/openapi.json")), url
        assert client.get(url).status_code == 200, url
    assert found.script_bodies and all(body.strip() == "" for body in found.script_bodies)
    assert "http://" not in answer.text and "https://" not in answer.text


def test_the_swagger_ui_start_script_reads_the_apis_own_document() -> None:
    client = TestClient(web_app())
    script = client.get("/static/js/docs.js")
    assert script.status_code == 200 and 'url: "/openapi.json"' in script.text
    assert client.get("/openapi.json").json()["info"]["title"] == "CSP information-sharing hub"


def test_without_cdn_docs_the_api_leaves_docs_and_redoc_free_but_keeps_its_document() -> None:
    app = create_app(WarehouseSettings(url=URL), register_at([]), GeocoderSettings(), cdn_docs=False)
    client = TestClient(app)
    assert client.get("/openapi.json").status_code == 200
    assert app.docs_url is None and app.redoc_url is None  # a 404 there would need the warehouse's access record


def test_by_default_the_api_keeps_fastapis_pages() -> None:
    client = TestClient(create_app(WarehouseSettings(url=URL), register_at([]), GeocoderSettings()))
    assert "swagger-ui" in client.get("/docs").text and "redoc" in client.get("/redoc").text


def test_the_web_application_refuses_an_api_that_keeps_the_cdn_pages() -> None:
    app = create_app(WarehouseSettings(url=URL), register_at([]), GeocoderSettings())
    with pytest.raises(ValueError, match="cdn_docs=False"):
        install_web(app, WebSettings(assets_dir=CHECKOUT))


def test_served_assets_skip_the_access_record_but_refused_ones_are_recorded() -> None:
    """This app has no warehouse, so an answer the edge must record fails closed (503)."""
    client = TestClient(web_app())
    assert client.get("/assets/hub.css").status_code == 200
    assert client.get("/static/js/hub.js").status_code == 200
    assert client.get("/assets/no-such-package/x.js").status_code == 503
