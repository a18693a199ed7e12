"""/assets/ serves the installed front-end packages through an allowlist; nothing else in the checkout, whatever
the path says."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import Message

from api.error_handlers import install_error_handlers
from web.assets import AssetsMissing, asset_source, install_assets
from web.settings import WebSettings

CHECKOUT = Path(__file__).resolve().parents[3]  # bootstrap installed node_modules and built web/build/hub.css here
SECRET = b"never-served"


def assets_app(assets_dir: Path = CHECKOUT) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    install_assets(app, WebSettings(assets_dir=assets_dir))
    return app


def raw_get(app: FastAPI, path: str) -> tuple[int, bytes]:
    """GET `path` exactly as given (an HTTP client would normalise `..` away before sending)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode("latin-1"),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    status = next(int(m["status"]) for m in sent if m["type"] == "http.response.start")
    return status, b"".join(bytes(m.get("body", b"")) for m in sent if m["type"] == "http.response.body")


@pytest.mark.parametrize(
    ("path", "file"),
    [
        ("/assets/govuk/govuk-frontend.min.js", "node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js"),
        ("/assets/moj/moj-frontend.min.js", "node_modules/@ministryofjustice/frontend/moj/moj-frontend.min.js"),
        ("/assets/leaflet/leaflet.js", "node_modules/leaflet/dist/leaflet.js"),
        ("/assets/leaflet/images/marker-icon.png", "node_modules/leaflet/dist/images/marker-icon.png"),
        ("/assets/d3/d3.min.js", "node_modules/d3/dist/d3.min.js"),
        ("/assets/plot/plot.umd.min.js", "node_modules/@observablehq/plot/dist/plot.umd.min.js"),
        ("/assets/swagger-ui/swagger-ui-bundle.js", "node_modules/swagger-ui-dist/swagger-ui-bundle.js"),
        ("/assets/swagger-ui/swagger-ui.css", "node_modules/swagger-ui-dist/swagger-ui.css"),
        ("/assets/redoc/redoc.standalone.js", "node_modules/redoc/bundles/redoc.standalone.js"),
    ],
)
def test_each_package_is_served_from_its_folder_and_cached_for_a_week(path: str, file: str) -> None:
    answer = TestClient(assets_app()).get(path)
    assert answer.status_code == 200
    assert answer.content == (CHECKOUT / file).read_bytes()
    assert answer.headers["cache-control"] == "public, max-age=604800"


def test_the_style_sheet_is_revalidated_each_time_and_unchanged_it_is_not_sent_again() -> None:
    client = TestClient(assets_app())
    answer = client.get("/assets/hub.css")
    assert answer.status_code == 200 and answer.content == (CHECKOUT / "web/build/hub.css").read_bytes()
    assert answer.headers["cache-control"] == "no-cache"
    assert client.get("/assets/hub.css", headers={"If-None-Match": answer.headers["etag"]}).status_code == 304


@pytest.mark.parametrize(
    "path",
    [
        "/assets/govuk/../../../../package.json",
        "/assets/govuk/%2e%2e/%2e%2e/%2e%2e/%2e%2e/package.json",
        "/assets/govuk/%2E%2E/%2E%2E/%2E%2E/%2E%2E/package.json",
        "/assets/../package.json",
        "/assets//work/package.json",
        "/assets/govuk//etc/passwd",
        "/assets/govuk/..\\..\\..\\..\\package.json",
        "/assets/hub.css\x00.js",
        "/assets/leaflet/leaflet.js\x00",
        "/assets/.bin/sass",
        "/assets/swagger-ui/./package.json",
    ],
)
def test_a_path_leaving_the_allowlist_is_refused_before_the_disk(path: str) -> None:
    status, body = raw_get(assets_app(), path)
    assert 400 <= status < 500
    assert b'"name"' not in body and b"root:" not in body  # neither package.json's nor /etc/passwd's content


@pytest.mark.parametrize(
    "path",
    [
        "govuk",  # a folder, not a file
        "leaflet/",
        "govuk/assets/fonts/bold-affa96571d-v2.woff2",  # GDS Transport: not ours to use
        "govuk/assets/images/govuk-crest.svg",  # the crown
        "govuk/assets/images/favicon.ico",
        "moj/assets/images/govuk-logotype-crown.png",
        "govuk/index.scss",  # not a kind a browser needs
        "moj/package.json",
        "swagger-ui/index.html",  # its inline script would break the CSP; /docs is ours
        "d3/d3.js",  # only the minified bundle
        "redoc/redoc.lib.js",
        "node_modules/leaflet/dist/leaflet.js",  # the package folders are reached only by their names
        "web/build/hub.css",
        "sass/sass.dart.js",
    ],
)
def test_what_the_allowlist_omits_is_not_served(path: str) -> None:
    assert asset_source(CHECKOUT, path) is None
    assert TestClient(assets_app()).get(f"/assets/{path}").status_code == 404


def test_a_symbolic_link_out_of_a_package_folder_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.js"
    outside.write_bytes(SECRET)
    dist = tmp_path / "checkout/node_modules/leaflet/dist"
    dist.mkdir(parents=True)
    (dist / "leaflet.js").write_bytes(b"L")
    (dist / "escape.js").symlink_to(outside)
    assert asset_source(tmp_path / "checkout", "leaflet/leaflet.js") == (dist / "leaflet.js").resolve()
    assert asset_source(tmp_path / "checkout", "leaflet/escape.js") is None


def test_an_install_without_the_assets_fails_at_start_naming_the_set_up_command(tmp_path: Path) -> None:
    with pytest.raises(AssetsMissing) as refused:
        assets_app(tmp_path)
    assert "web/build/hub.css" in str(refused.value)
    assert "make demo" in str(refused.value) and "deploy/bootstrap.sh" in str(refused.value)


def test_writes_to_assets_are_refused() -> None:
    answer = TestClient(assets_app()).post("/assets/hub.css", content=b"x")
    assert answer.status_code == 405
