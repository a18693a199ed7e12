"""The API's probes over a real warehouse: /readyz is 200 while the warehouse answers, probes are never written to
the access log nor rate limited, and /metrics counts real requests by route template (never the path sent)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.factory import create_app
from api.settings import ApiSettings
from tests.support.hub import HubEnv

pytestmark = pytest.mark.integration

PROBES = ["/healthz", "/readyz", "/metrics"]


@pytest.fixture(scope="module")
def strict(hub_env: HubEnv) -> Iterator[TestClient]:
    """An API allowing one request a minute per address (the probes aside)."""
    settings = ApiSettings(address_requests_per_minute=1, topic_prefix=hub_env.prefix)
    with TestClient(create_app(hub_env.api_warehouse, hub_env.register, hub_env.geography, settings)) as client:
        yield client


def _access_rows(hub_env: HubEnv) -> int:
    [(n,)] = hub_env.query("SELECT count(*) FROM access_log")
    return int(n)


def test_ready_while_the_warehouse_answers(hub_env: HubEnv) -> None:
    answer = hub_env.client().get("/readyz")
    assert answer.status_code == 200 and answer.json() == {"status": "ready"}


def test_probes_are_not_written_to_the_access_log(hub_env: HubEnv) -> None:
    client = hub_env.client()
    before = _access_rows(hub_env)
    for path in PROBES * 3:
        assert client.get(path).status_code == 200, path
    assert _access_rows(hub_env) == before
    assert client.get("/v1/datasets").status_code == 200  # any other request is recorded
    assert _access_rows(hub_env) == before + 1


def test_probes_are_not_rate_limited(strict: TestClient) -> None:
    assert [strict.get(path).status_code for path in PROBES * 5] == [200] * 15
    assert strict.get("/collections").status_code == 200
    assert strict.get("/collections").status_code == 429


def test_metrics_count_requests_by_route_template(hub_env: HubEnv) -> None:
    client = hub_env.client()
    for code in ("E05011111", "E05022222"):
        client.get(f"/collections/{code}")
    client.get("/no/such/E05033333")
    counts: dict[tuple[str, str, str], float] = {}
    text = client.get("/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "hub_api_request_duration_seconds_count":
                counts[(sample.labels["method"], sample.labels["route"], sample.labels["status"])] = sample.value
    assert counts[("GET", "/collections/{collectionId}", "404")] == 2
    assert counts[("GET", "unmatched", "404")] == 1
    assert "E050" not in text and "/no/such" not in text
