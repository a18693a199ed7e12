"""PostgreSQL stopped under load (fast shutdown, back after 5 s), and frozen with SIGSTOP for 30 s: the worker waits
and resumes; the API answers 503 with Retry-After while the warehouse is away (never a 500 or a stack trace), and
recovers by itself."""

from __future__ import annotations

import concurrent.futures
import time
from pathlib import Path

from fastapi.testclient import TestClient
from httpx import Response

from tests.faults.conftest import Stack, progress, street_topic
from tests.support.audit import audit
from tests.support.hub import HubEnv, Worker, publishing, wait_for

FROZEN_S = 30
ROUTE = "/v1/public/datasets"  # a real route that reads the warehouse (and records the access)


def _unavailable(answer: Response) -> None:
    """A 503 problem that says when to try again, and no traceback."""
    assert answer.status_code == 503, (answer.status_code, answer.text[:500])
    assert int(answer.headers["Retry-After"]) > 0
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "Traceback" not in answer.text


def test_the_database_stopped_then_frozen_under_load_the_worker_resumes_and_the_api_answers_503(
    hub_env: HubEnv, stack: Stack, police_file: Path, tmp_path: Path
) -> None:
    client: TestClient = hub_env.client()
    assert client.get(ROUTE).status_code == 200
    worker = Worker(hub_env, tmp_path / "worker.log")
    try:
        publisher = publishing(hub_env, "police-uk-street", police_file)
        wait_for(lambda: progress(hub_env) >= 500, 180, "a few hundred events loaded")
        stack.kill_postgres()
        _unavailable(client.get(ROUTE))
        _unavailable(client.get("/readyz"))  # not ready: the warehouse does not answer
        assert client.get("/healthz").status_code == 200  # alive all the same: liveness asks nothing of it
        time.sleep(5)
        stack.start()
        back, before = time.monotonic(), progress(hub_env)
        wait_for(lambda: progress(hub_env) > before, 180, "a batch committed after PostgreSQL came back")
        stopped_recovery = time.monotonic() - back
        wait_for(lambda: client.get(ROUTE).status_code == 200, 60, "the API answering again by itself")

        pool = concurrent.futures.ThreadPoolExecutor(1)
        frozen = stack.freeze_postgres()
        try:
            asked = pool.submit(client.get, ROUTE)  # waits on the frozen database, or gives up with a 503
            time.sleep(FROZEN_S)
        finally:
            stack.thaw(frozen)
        answer = asked.result(timeout=120)
        pool.shutdown()
        assert answer.status_code in (200, 503), (answer.status_code, answer.text[:500])
        if answer.status_code == 503:
            _unavailable(answer)
        thawed, before = time.monotonic(), progress(hub_env)
        _, err = publisher.communicate(timeout=300)
        assert publisher.returncode == 0, err[-2000:]
        wait_for(lambda: progress(hub_env) > before, 180, "a batch committed after the thaw")
        frozen_recovery = time.monotonic() - thawed
        worker.wait_until_loaded(timeout=300)
        assert client.get(ROUTE).status_code == 200
    finally:
        worker.stop()
    result = audit(hub_env, [street_topic(hub_env)], "PostgreSQL SIGINT 5 s, then SIGSTOP 30 s", stopped_recovery)
    print(result.line(), f"(after the freeze: {frozen_recovery:.1f} s)")
    result.check()
