"""The API's probes without a warehouse: /healthz answers without one, /readyz says which check failed (503,
Retry-After), /metrics labels requests by route template with bounded label sets, and uvicorn's access log leaves
the probes out (tests/integration/test_api_signals.py: the same with a warehouse)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.factory import create_app
from api.probes import ProbeAccessFilter
from api.readiness import WarehouseReadiness
from api.settings import ApiSettings
from deploy.protocol_files import register_at
from geography.settings import GeocoderSettings
from warehouse.settings import WarehouseSettings

URL = "postgresql+psycopg://nobody@127.0.0.1:9/none"  # nothing listens: every connection is refused at once


def _client(settings: ApiSettings | None = None) -> TestClient:
    app = create_app(WarehouseSettings(url=URL), register_at([]), GeocoderSettings(), settings)
    return TestClient(app)


def _requests(client: TestClient) -> dict[tuple[str, str, str], float]:
    """The request counts of /metrics, by (method, route, status)."""
    found: dict[tuple[str, str, str], float] = {}
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name == "hub_api_request_duration_seconds_count":
                labels = sample.labels
                found[(labels["method"], labels["route"], labels["status"])] = sample.value
    return found


def test_healthz_answers_while_the_warehouse_is_down() -> None:
    with _client() as client:
        answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}


def test_readyz_is_503_naming_the_check_without_host_or_driver_text() -> None:
    with _client() as client:
        answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "10"
    assert answer.headers["content-type"] == "application/problem+json"
    detail = answer.json()["detail"]
    assert detail == "not ready: warehouse: the warehouse could not be reached"
    assert "127.0.0.1" not in answer.text and "psycopg" not in answer.text.lower()


def test_metrics_label_requests_by_route_template_with_bounded_labels() -> None:
    with _client() as client:
        client.get("/v1/ig/protocols/E05011111")
        client.get("/v1/ig/protocols/secret-id-42")
        client.get("/no/such/E05011111")
        client.request("PROPFIND", "/healthz")
        client.get("/healthz")
        requests = _requests(client)
        text = client.get("/metrics").text
    assert requests[("GET", "/v1/ig/protocols/{protocol_id}", "503")] == 2
    assert requests[("GET", "/healthz", "200")] == 1
    assert requests[("other", "/healthz", "405")] == 1
    assert ("GET", "unmatched", "503") in requests or ("GET", "unmatched", "404") in requests
    assert "E05011111" not in text and "secret-id-42" not in text and "/no/such" not in text


def test_metrics_can_be_turned_off() -> None:
    with _client(ApiSettings(metrics=False)) as client:
        assert client.get("/metrics").status_code == 404
        assert client.get("/healthz").status_code == 200


def test_readiness_waits_at_most_its_timeout_and_asks_at_most_once_a_second() -> None:
    asked: list[float] = []
    release = threading.Event()

    def slow() -> None:
        asked.append(time.monotonic())
        release.wait(5)

    now = [0.0]
    readiness = WarehouseReadiness(slow, timeout=0.2, clock=lambda: now[0])

    async def scenario() -> list[bool]:
        started = time.monotonic()
        first = await readiness.check()
        assert time.monotonic() - started < 1.0
        assert first.reason == "the warehouse did not answer within 0.2 s"
        second = await readiness.check()  # within the second: the last answer stands, nothing asked
        now[0] = 1.5
        third = await readiness.check()  # the first question is still out: not asked again
        release.set()
        await asyncio.sleep(0.1)
        now[0] = 3.0
        fourth = await readiness.check()
        return [first.ready, second.ready, third.ready, fourth.ready]

    assert asyncio.run(scenario()) == [False, False, False, True]
    assert len(asked) == 2


@pytest.mark.parametrize(
    ("path", "kept"), [("/healthz", False), ("/readyz?x=1", False), ("/metrics", False), ("/v1/datasets", True)]
)
def test_uvicorns_access_log_leaves_the_probes_out(path: str, kept: bool) -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d', ("1.2.3.4:5", "GET", path, "1.1", 200), None
    )
    assert ProbeAccessFilter().filter(record) is kept
