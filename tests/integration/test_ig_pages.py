"""The IG lead's console pages as the server renders them (issue 15): who may open each (an IG lead; another role
gets the refusal page, nobody signed in the sign-in redirect), the shell each renders (its GET form restoring the
permalink's parameters, its result containers and its page script, no inline script), and that each page script
reads only the API's own endpoints. The figures the scripts draw are checked in the browser tests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.factory import create_app
from tests.support.hub import UNLIMITED, HubEnv
from tests.support.web_client import signed_in
from web.install import STATIC_DIR, install_web
from web.navigation import navigation
from web.settings import WebSettings

pytestmark = pytest.mark.integration

SETTINGS = WebSettings(assets_dir=Path("."), sign_ins_per_minute=1000)
PAGES = {
    "/web/ig/": ("ig-register.js", ["register"]),
    "/web/ig/protocols/police-records-to-csp": ("ig-protocol.js", ["terms"]),
    "/web/ig/protocols/police-records-to-csp/diff": ("ig-diff.js", ["changes"]),
    "/web/ig/flows": ("ig-flows.js", ["flows", "withheld"]),
    "/web/ig/withheld": ("ig-withheld.js", ["withheld"]),
    "/web/ig/access-log": ("ig-access-log.js", ["log"]),
    "/web/ig/retention": ("ig-retention.js", ["register", "runs", "retractions"]),
}


@pytest.fixture(scope="module")
def app(hub_env: HubEnv) -> Iterator[FastAPI]:
    web_app = create_app(hub_env.api_warehouse, hub_env.register, hub_env.geography, UNLIMITED, cdn_docs=False)
    install_web(web_app, SETTINGS)
    with TestClient(web_app):
        yield web_app


def test_the_navigation_lists_the_pages_that_exist() -> None:
    assert [href for href, _ in navigation("ig_lead")] == [p for p in PAGES if "protocols" not in p]


@pytest.mark.parametrize("path", list(PAGES))
def test_an_ig_lead_gets_the_pages_shell(app: FastAPI, hub_env: HubEnv, path: str) -> None:
    page = signed_in(app, hub_env.engine, "sussex-police", "ig_lead").get(path)
    assert page.status_code == 200, page.text
    script, containers = PAGES[path]
    assert f'<script type="module" src="/static/js/{script}"></script>' in page.text
    for container in containers:
        assert f'id="{container}"' in page.text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text), "an inline script"
    assert not re.search(r"\son[a-z]+=", page.text), "an inline event handler"
    assert "javascript:" not in page.text
    assert "sussex-police (ig_lead)" in page.text


@pytest.mark.parametrize("path", list(PAGES))
def test_other_roles_get_the_refusal_and_nobody_the_sign_in(app: FastAPI, hub_env: HubEnv, path: str) -> None:
    for role, org in (("analyst", "eastbourne-csp"), ("partner", "sussex-police")):
        refused = signed_in(app, hub_env.engine, org, role).get(path)
        assert refused.status_code == 403 and "You cannot see this page" in refused.text
        assert "information-governance leads" in refused.text
    anonymous = TestClient(app, follow_redirects=False).get(path + "?from=2024-01-01")
    assert anonymous.status_code == 303
    target = urlsplit(anonymous.headers["location"])
    assert target.path == "/web/sign-in"
    assert parse_qs(target.query)["next"] == [path + "?from=2024-01-01"]


def test_the_permalink_fills_the_forms_fields(app: FastAPI, hub_env: HubEnv) -> None:
    client = signed_in(app, hub_env.engine, "hub", "ig_lead")
    flows = client.get("/web/ig/flows?from=2024-01-01&to=2024-03-31&partner=sussex-police&recipient=essex-csp")
    for name, value in (("from", "2024-01-01"), ("to", "2024-03-31"), ("partner", "sussex-police")):
        assert re.search(rf'name="{name}" type="[a-z]+"\s+value="{value}"', flows.text), name
    log = client.get("/web/ig/access-log?role=analyst&status=403&path=/v1/counts&org=essex-csp")
    assert '<option value="analyst" selected>' in log.text
    assert 'value="403"' in log.text and 'value="/v1/counts"' in log.text and 'value="essex-csp"' in log.text
    diff = client.get("/web/ig/protocols/police-records-to-csp/diff?from=1&to=2")
    assert 'name="from" type="number"\n    value="1"' in diff.text


def test_a_hostile_parameter_is_escaped_not_run(app: FastAPI, hub_env: HubEnv) -> None:
    client = signed_in(app, hub_env.engine, "hub", "ig_lead")
    page = client.get("/web/ig/flows", params={"partner": '"><script>alert(1)</script>'})
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_an_org_ig_lead_has_no_organisation_field_in_the_access_log(app: FastAPI, hub_env: HubEnv) -> None:
    page = signed_in(app, hub_env.engine, "sussex-police", "ig_lead").get("/web/ig/access-log")
    assert 'name="org"' not in page.text and "Organisation: sussex-police" in page.text
    assert 'name="org"' in signed_in(app, hub_env.engine, "hub", "ig_lead").get("/web/ig/access-log").text


@pytest.mark.parametrize("path", ["/web/ig/protocols/..%2Fsecrets", "/web/ig/protocols/UPPER", "/web/ig/nowhere"])
def test_a_malformed_protocol_id_or_unknown_page_is_not_a_server_error(
    app: FastAPI, hub_env: HubEnv, path: str
) -> None:
    page = signed_in(app, hub_env.engine, "hub", "ig_lead").get(path)
    assert 400 <= page.status_code < 500, (path, page.status_code)
    assert "Traceback" not in page.text


def test_the_page_scripts_read_only_the_apis_own_endpoints() -> None:
    for script in sorted(STATIC_DIR.glob("js/ig-*.js")):
        source = script.read_text(encoding="utf-8")
        for address in re.findall(r"[\"'`](https?:)?//", source):
            pytest.fail(f"{script.name} names another site: {address}")
        for path in re.findall(r"[\"'`](/v1/[a-z0-9/_-]*)", source):
            assert path.startswith("/v1/ig/"), (script.name, path)
