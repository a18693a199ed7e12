"""Who may open the analyst's map and trends pages (over real sessions): an analyst, never an IG lead, a partner or
someone not signed in; and the pages' API calls answer the signed-in analyst through their session cookie alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.factory import create_app
from tests.support.hub import UNLIMITED, HubEnv
from tests.support.web_client import signed_in
from web.install import install_web
from web.settings import WebSettings

CHECKOUT = Path(__file__).resolve().parents[2]  # the front-end packages are installed here (npm ci)

pytestmark = pytest.mark.integration

PAGES = ("/web/analyst/", "/web/analyst/trends")
ORGS = {"analyst": "eastbourne-csp", "ig_lead": "hub", "partner": "sussex-police"}


@pytest.fixture(scope="module")
def app(hub_env: HubEnv) -> Iterator[FastAPI]:
    web_app = create_app(hub_env.api_warehouse, hub_env.register, hub_env.geography, UNLIMITED, cdn_docs=False)
    install_web(web_app, WebSettings(assets_dir=CHECKOUT, sign_ins_per_minute=1000))
    with TestClient(web_app):
        yield web_app


@pytest.mark.parametrize("path", PAGES)
def test_an_analyst_gets_the_page(app: FastAPI, hub_env: HubEnv, path: str) -> None:
    answer = signed_in(app, hub_env.engine, ORGS["analyst"], "analyst").get(
        f"{path}?dataset=police-uk-street&from=2019-01&to=2019-01"
    )
    assert answer.status_code == 200, answer.text
    assert 'id="query"' in answer.text and 'value="2019-01"' in answer.text
    assert "eastbourne-csp (analyst)" in answer.text


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("role", ["ig_lead", "partner"])
def test_other_roles_get_the_refusal_page(app: FastAPI, hub_env: HubEnv, path: str, role: str) -> None:
    answer = signed_in(app, hub_env.engine, ORGS[role], role).get(path)
    assert answer.status_code == 403
    assert "You cannot see this page" in answer.text and "CSP analysts" in answer.text
    assert 'id="map"' not in answer.text and "analyst-" not in answer.text  # none of the page's shell or script


@pytest.mark.parametrize("path", PAGES)
def test_no_session_is_sent_to_sign_in(app: FastAPI, path: str) -> None:
    answer = TestClient(app, follow_redirects=False).get(path)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/web/sign-in")


def test_the_pages_api_calls_answer_the_session(app: FastAPI, hub_env: HubEnv) -> None:
    """The map's first calls, with the session cookie and no key: the analyst's own choices and areas."""
    client = signed_in(app, hub_env.engine, ORGS["analyst"], "analyst")
    datasets = client.get("/v1/datasets")
    assert datasets.status_code == 200, datasets.text
    assert "police-uk-street" in {d["dataset"] for d in datasets.json()}
    areas = client.get("/v1/areas", params={"format": "geojson"})
    assert areas.status_code == 200, areas.text
    assert [f["properties"]["area_code"] for f in areas.json()["features"]] == ["E07000061"]
