"""The API's use of pooled connections: a request holds at most one at a time, and a saturated pool is a 503 with
Retry-After, never a 500 or a hang.

Before, a route's session held its connection until after the response, while the edge wrote the access record on
another: with every pooled connection held by a route, every request waited for a second one until the pool's
timeout, and concurrent analysts deadlocked the API.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine

from api.factory import create_app
from api.problems import UNAVAILABLE_RETRY_AFTER_S
from tests.support.hub import UNLIMITED, HubEnv
from warehouse.schema.db import libpq_url

pytestmark = pytest.mark.integration

ROUTES = ("/v1/dq", "/v1/datasets", "/v1/ig/flows")


@pytest.fixture
def one_connection(hub_env: HubEnv) -> Iterator[TestClient]:
    """An IG lead's client of an API whose pool is one connection, waited for at most 5 s."""
    warehouse = hub_env.api_warehouse.model_copy(update={"pool_size": 1, "max_overflow": 0, "pool_timeout_s": 5.0})
    app = create_app(warehouse, hub_env.register, hub_env.geography, UNLIMITED)
    key = hub_env.api_client("hub", "ig_lead").headers["Authorization"]
    with TestClient(app, headers={"Authorization": key}) as client:
        yield client


def test_a_request_needs_one_pooled_connection(one_connection: TestClient, hub_env: HubEnv) -> None:
    """Key check, route and access record each take the one connection in turn."""
    before = hub_env.query("SELECT count(*) FROM access_log")[0][0]
    for route in ROUTES:
        answer = one_connection.get(route)
        assert answer.status_code == 200, (route, answer.text)
    assert hub_env.query("SELECT count(*) FROM access_log")[0][0] == before + len(ROUTES)


def test_concurrent_requests_share_one_connection(one_connection: TestClient) -> None:
    """Twelve requests at once through one connection: they queue for it, and every one is answered."""
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(one_connection.get, ROUTES * 4))
    assert [a.status_code for a in answers] == [200] * 12, [a.text for a in answers if a.status_code != 200]


def test_a_saturated_pool_is_a_503_with_retry_after(hub_env: HubEnv) -> None:
    """The only connection is held elsewhere past the pool's timeout: a problem detail with Retry-After."""
    warehouse = hub_env.api_warehouse.model_copy(update={"pool_size": 1, "max_overflow": 0, "pool_timeout_s": 0.5})
    app = create_app(warehouse, hub_env.register, hub_env.geography, UNLIMITED)
    key = hub_env.api_client("hub", "ig_lead").headers["Authorization"]
    with TestClient(app, headers={"Authorization": key}, raise_server_exceptions=False) as client:
        engine: Engine = app.state.engine
        with engine.connect():
            busy = client.get("/v1/dq")
        after = client.get("/v1/dq")
    _assert_unavailable(busy)
    assert after.status_code == 200, after.text


def test_connections_that_died_in_the_pool_cost_one_request_a_503_and_the_next_ones_succeed(
    one_connection: TestClient, hub_env: HubEnv
) -> None:
    """The pool does not ping a connection at checkout: when the warehouse ends its pooled connection (as a restart
    does), the next request fails on it with a 503 problem (never a 500), which invalidates the pool; later
    requests connect afresh and succeed."""
    assert one_connection.get("/v1/dq").status_code == 200  # the pool now holds a connection
    with psycopg.connect(libpq_url(hub_env.api_url), autocommit=True) as killer:  # as the API's own role
        ended = killer.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND usename = current_user AND pid <> pg_backend_pid()"
        ).fetchone()
    assert ended is not None and ended[0] >= 1
    first = one_connection.get("/v1/dq")
    if first.status_code != 200:
        _assert_unavailable(first)
        assert "not answering" in first.json()["detail"]
    assert [one_connection.get(route).status_code for route in ROUTES] == [200] * len(ROUTES)


def _assert_unavailable(answer: Response) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == str(UNAVAILABLE_RETRY_AFTER_S)
    assert "Traceback" not in answer.text and "QueuePool" not in answer.text


def test_what_the_app_holds_is_frozen_while_it_runs(hub_env: HubEnv) -> None:
    """The objects made before the app started (its register among them) are left out of the collector's passes
    while it runs, so a full collection mid-request does not walk them; collectable again once it stops."""
    app = create_app(hub_env.api_warehouse, hub_env.register, hub_env.geography, UNLIMITED)
    register = hub_env.register

    def collected() -> bool:  # whether the collector's generations hold the register
        return any(o is register for o in gc.get_objects())

    assert collected()
    with TestClient(app):
        assert gc.get_freeze_count() > 0
        assert not collected()
    assert gc.get_freeze_count() == 0
    assert collected()
