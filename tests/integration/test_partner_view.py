"""GET /v1/partner/flows and /v1/partner/settings: a partner's own grants and publishing settings, and nobody else's.

Against the real database (keys, access log) with the packaged protocols; expectations come from the register
itself (sharing_protocols.partner_flows, the protocols' data owners) and the topics the hub made for them.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.factory import create_app
from deploy.topics import partner_topics, protocol_topics
from sharing_protocols.partner_flows import partner_flows
from tests.support.hub import UNLIMITED, HubEnv
from tests.support.web_client import signed_in
from web.install import install_web
from web.settings import WebSettings

PARTNER = "sussex-police"  # a data owner of several packaged protocols
OTHER = "eastbourne-council"  # another data owner


def test_a_partner_gets_exactly_the_flows_the_register_grants_from_its_datasets(hub_env: HubEnv) -> None:
    answer = hub_env.api_client(PARTNER, "partner").get("/v1/partner/flows")
    assert answer.status_code == 200
    expected = partner_flows(hub_env.register, PARTNER, datetime.now(UTC).date())
    assert expected  # the packaged register grants Sussex Police's data to someone
    assert answer.json() == [
        {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(flow).items()} for flow in expected
    ]


def test_a_partners_flows_are_only_of_datasets_it_provides(hub_env: HubEnv) -> None:
    flows = hub_env.api_client(PARTNER, "partner").get("/v1/partner/flows").json()
    provided = hub_env.register.provided_datasets()
    assert {f["dataset"] for f in flows} <= provided[PARTNER]
    others_only = provided[OTHER] - provided[PARTNER]
    assert others_only and not {f["dataset"] for f in flows} & others_only


def test_a_partners_flows_name_protocols_that_make_it_a_data_owner(hub_env: HubEnv) -> None:
    flows = hub_env.api_client(PARTNER, "partner").get("/v1/partner/flows").json()
    for flow in flows:
        protocol_id, _, version = flow["protocol"].partition("@")
        assert hub_env.register.get(protocol_id, int(version)).provides(PARTNER, flow["dataset"])


def test_flows_can_be_asked_for_one_dataset(hub_env: HubEnv) -> None:
    client = hub_env.api_client(PARTNER, "partner")
    every = client.get("/v1/partner/flows").json()
    dataset = every[0]["dataset"]
    one = client.get("/v1/partner/flows", params={"dataset": dataset}).json()
    assert one == [f for f in every if f["dataset"] == dataset]


def test_flows_as_csv_are_the_same_rows(hub_env: HubEnv) -> None:
    client = hub_env.api_client(PARTNER, "partner")
    every = client.get("/v1/partner/flows").json()
    answer = client.get("/v1/partner/flows", params={"format": "csv"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [(r["protocol"], r["clause"], r["recipient"], r["fields"]) for r in rows] == [
        (f["protocol"], f["clause"], f["recipient"], " ".join(f["fields"])) for f in every
    ]


@pytest.mark.parametrize("role", ["analyst", "ig_lead", "public"])
@pytest.mark.parametrize("path", ["/v1/partner/flows", "/v1/partner/settings"])
def test_the_partner_endpoints_refuse_other_roles(hub_env: HubEnv, role: str, path: str) -> None:
    org = "hub" if role == "ig_lead" else "eastbourne-csp"
    answer = hub_env.api_client(org, role).get(path)
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("path", ["/v1/partner/flows", "/v1/partner/settings"])
def test_the_partner_endpoints_refuse_a_caller_without_a_key(hub_env: HubEnv, path: str) -> None:
    assert hub_env.client().get(path).status_code == 403


@pytest.mark.parametrize("dataset", ["../police", "x" * 65, "Police-UK", "a b"])
def test_a_malformed_dataset_is_a_client_error(hub_env: HubEnv, dataset: str) -> None:
    answer = hub_env.api_client(PARTNER, "partner").get("/v1/partner/flows", params={"dataset": dataset})
    assert 400 <= answer.status_code < 500
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_a_partner_cannot_ask_for_another_partners_flows_or_quality(hub_env: HubEnv) -> None:
    client = hub_env.api_client(PARTNER, "partner")
    theirs = client.get("/v1/partner/flows", params={"partner": OTHER}).json()  # not a parameter: ignored
    assert theirs == client.get("/v1/partner/flows").json()
    assert client.get("/v1/dq", params={"partner": OTHER}).status_code == 403
    assert {f["partner"] for f in client.get("/v1/dq").json()["feeds"]} == {PARTNER}


def test_a_partners_settings_are_its_own_topics_on_the_broker(hub_env: HubEnv) -> None:
    settings = hub_env.api_client(PARTNER, "partner").get("/v1/partner/settings").json()
    assert (settings["partner"], settings["topic_prefix"]) == (PARTNER, hub_env.prefix)
    assert settings["username"] == f"{hub_env.prefix}.partner.{PARTNER}"
    topics = {f["topic"] for f in settings["feeds"]}
    assert topics and topics <= set(partner_topics(hub_env.kafka, hub_env.admin))
    assert topics == {t for t in protocol_topics(hub_env.prefix, hub_env.register) if t.endswith(f".{PARTNER}")}
    assert {f["dataset"] for f in settings["feeds"]} == hub_env.register.provided_datasets()[PARTNER]


def test_a_partners_settings_hold_no_secret(hub_env: HubEnv) -> None:
    answer = hub_env.api_client(PARTNER, "partner").get("/v1/partner/settings")
    text = answer.text.lower()
    assert set(answer.json()) == {"partner", "topic_prefix", "username", "feeds"}
    assert not any(word in text for word in ("password", "secret", "bootstrap", "ca_file"))


def test_each_call_is_in_the_access_log(hub_env: HubEnv) -> None:
    hub_env.api_client(PARTNER, "partner").get("/v1/partner/settings")
    logged = hub_env.query(
        "SELECT org, role, status, rows FROM access_log WHERE endpoint = '/v1/partner/settings' "
        "ORDER BY id DESC LIMIT 1"
    )
    feeds = len(hub_env.register.provided_datasets()[PARTNER])
    assert logged == [(PARTNER, "partner", 200, feeds)]


# The page itself (its figures are drawn by its script: tests/browser/test_partner_feeds.py).


@pytest.fixture(scope="module")
def web_app(hub_env: HubEnv) -> Iterator[FastAPI]:
    app = create_app(hub_env.api_warehouse, hub_env.register, hub_env.geography, UNLIMITED, cdn_docs=False)
    install_web(app, WebSettings(assets_dir=Path("."), sign_ins_per_minute=1000))
    with TestClient(app):
        yield app


def test_the_page_offers_the_partners_own_datasets(web_app: FastAPI, hub_env: HubEnv) -> None:
    page = signed_in(web_app, hub_env.engine, PARTNER, "partner").get("/web/partner/")
    assert page.status_code == 200
    options = re.findall(r'<option value="([^"]*)"', page.text)
    assert options == ["", *sorted(hub_env.register.provided_datasets()[PARTNER])]
    assert '<script type="module" src="/static/js/partner-feeds.js"></script>' in page.text


def test_the_page_restores_its_fields_from_its_address(web_app: FastAPI, hub_env: HubEnv) -> None:
    dataset = sorted(hub_env.register.provided_datasets()[PARTNER])[-1]
    client = signed_in(web_app, hub_env.engine, PARTNER, "partner")
    page = client.get("/web/partner/", params={"dataset": dataset, "late_days": "12"})
    assert f'<option value="{dataset}" selected>' in page.text
    assert re.search(r'id="late_days"[^>]*value="12"', page.text)


def test_markup_in_the_address_is_escaped_not_run(web_app: FastAPI, hub_env: HubEnv) -> None:
    client = signed_in(web_app, hub_env.engine, PARTNER, "partner")
    attack = '"><script>alert(1)</script>'
    page = client.get("/web/partner/", params={"dataset": attack, "late_days": attack})
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.text
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text)  # no inline script at all


def test_the_partners_session_reads_its_own_api_answers(web_app: FastAPI, hub_env: HubEnv) -> None:
    client = signed_in(web_app, hub_env.engine, PARTNER, "partner")
    assert client.get("/v1/partner/settings").json()["partner"] == PARTNER
    assert client.get("/v1/dq", params={"partner": OTHER}).status_code == 403


@pytest.mark.parametrize(("org", "role"), [("eastbourne-csp", "analyst"), ("hub", "ig_lead")])
def test_other_roles_get_the_refusal_page(web_app: FastAPI, hub_env: HubEnv, org: str, role: str) -> None:
    page = signed_in(web_app, hub_env.engine, org, role).get("/web/partner/")
    assert page.status_code == 403
    assert "partner-feeds.js" not in page.text


def test_without_a_session_the_page_sends_you_to_sign_in(web_app: FastAPI) -> None:
    answer = TestClient(web_app, follow_redirects=False).get("/web/partner/")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/web/sign-in")
