"""`hub worker` with its probe port: /metrics counts what the warehouse holds (events loaded, withheld, dead-lettered
by dataset), with no area code or id in a label; /readyz is 200 once the loader has caught up; the log says what
each batch did in counts and reason kinds (faust's idle-partition error, logged only after 5 minutes:
tests/unit/stream_processors/test_faust_logs.py)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from producers.feed_registry import get_feed
from stream_processors.worker_signals import LAG_POLL_SECONDS
from tests.support.hub import HubEnv, Worker
from tests.support.open_data import EASTBOURNE_STREET

pytestmark = pytest.mark.integration

DATASET = "police-uk-street"
MALFORMED = 25  # not JSON, keyed by no event id: dead letters
AREA_CODE = re.compile(r"[ENSW]\d{8}")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str) -> tuple[int, str, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read().decode(), dict(answer.headers)
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode(), dict(refused.headers)


def _wait_for(url: str, status: int, timeout: float) -> tuple[int, str, dict[str, str]]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = _get(url)
        except OSError:
            found = (0, "", {})
        if found[0] == status or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


@pytest.fixture(scope="module")
def port() -> int:
    return _free_port()


@pytest.fixture(scope="module")
def worker(hub_env: HubEnv, tmp_path_factory: pytest.TempPathFactory, port: int) -> Iterator[Worker]:
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    running = Worker(hub_env, log, {"HUB_WORKER_METRICS_PORT": str(port)})
    yield running
    running.stop()


@pytest.fixture(scope="module")
def loaded(hub_env: HubEnv, worker: Worker, shared_data: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "deploy.cli", "publish", DATASET, str(shared_data / EASTBOURNE_STREET)],
        env={**os.environ, **hub_env.env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    topic = hub_env.kafka.partner_topic(DATASET, get_feed(DATASET).default_partner)
    producer = KafkaProducer(**hub_env.admin.kafka_python(), acks="all")
    for n in range(MALFORMED):
        producer.send(topic, key=f"not-an-event-id-{n}".encode(), value=b"{not json")
    producer.flush()
    producer.close()
    worker.wait_until_loaded()


def _samples(port: int) -> list[tuple[str, dict[str, str], float]]:
    status, body, _ = _get(f"http://127.0.0.1:{port}/metrics")
    assert status == 200
    return [(s.name, s.labels, s.value) for f in text_string_to_metric_families(body) for s in f.samples]


def _events(port: int) -> dict[tuple[str, str], float]:
    return {
        (labels["dataset"], labels["outcome"]): value
        for name, labels, value in _samples(port)
        if name == "hub_worker_events_total"
    }


def _count(hub_env: HubEnv, sql: str) -> int:
    [(n,)] = hub_env.query(sql)
    return int(n)


def test_healthz_answers(worker: Worker, port: int) -> None:
    status, body, _ = _wait_for(f"http://127.0.0.1:{port}/healthz", 200, 60)
    assert status == 200 and '"ok"' in body


def test_the_counters_equal_the_warehouse(hub_env: HubEnv, loaded: None, port: int) -> None:
    events = _events(port)
    loaded_rows = _count(hub_env, f"SELECT count(*) FROM event WHERE dataset = '{DATASET}'")
    withheld = _count(hub_env, f"SELECT count(*) FROM decision WHERE dataset = '{DATASET}' AND outcome = 'withheld'")
    dead = _count(hub_env, "SELECT count(*) FROM dead_letter")
    assert loaded_rows > 800 and dead == MALFORMED  # the file's rows, and the malformed messages
    assert events.get((DATASET, "loaded"), 0) == loaded_rows
    assert events.get((DATASET, "withheld"), 0) == withheld
    assert events.get((DATASET, "dead_lettered"), 0) == dead
    assert sum(events.values()) == loaded_rows + withheld + dead  # nothing counted under any other label


def test_batches_are_timed(loaded: None, port: int) -> None:
    counts = [v for name, _, v in _samples(port) if name == "hub_worker_batch_seconds_count"]
    assert counts and counts[0] >= 1


def test_the_lag_is_read_by_topic(hub_env: HubEnv, loaded: None, port: int) -> None:
    topic = hub_env.kafka.partner_topic(DATASET, get_feed(DATASET).default_partner)
    deadline = time.monotonic() + 40
    while True:
        lags = {labels["topic"]: v for name, labels, v in _samples(port) if name == "hub_worker_lag_messages"}
        if lags.get(topic) == 0 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert lags.get(topic) == 0


def test_the_lag_watch_keeps_kafka_python_chatter_out_of_the_log(loaded: None, worker: Worker) -> None:
    ready = "[^Worker]: Ready"  # faust has set the log up by then: lines from earlier reads would not be in it
    assert ready in worker.log.read_text()
    time.sleep(2 * LAG_POLL_SECONDS + 1)  # two lag reads at least
    log = worker.log.read_text()
    assert "batch of" in log  # the log is the worker's INFO log
    # kafka-python logs each new client's connections at INFO, naming its client id: lines at every read
    assert "client_id=hub-lag" not in log


def test_no_area_code_or_id_in_a_label(loaded: None, port: int) -> None:
    values = {value for _, labels, _ in _samples(port) for value in labels.values()}
    assert not [v for v in values if AREA_CODE.search(v) or UUID.search(v) or "not-an-event-id" in v]
    names = {name for name, labels, _ in _samples(port) if name.startswith("hub_worker")}
    label_names = {key for name, labels, _ in _samples(port) if name.startswith("hub_worker") for key in labels}
    assert names and label_names <= {"dataset", "outcome", "topic", "le"}


def test_ready_once_caught_up(loaded: None, port: int) -> None:
    status, body, _ = _wait_for(f"http://127.0.0.1:{port}/readyz", 200, 40)
    assert status == 200, body


def test_the_log_counts_dead_letters_by_kind_never_their_keys(loaded: None, worker: Worker) -> None:
    log = worker.log.read_text()
    kinds = re.findall(r"(\d+) dead-lettered \(not_json (\d+)\)", log)
    assert kinds and sum(int(n) for _, n in kinds) == MALFORMED
    assert "not-an-event-id" not in log
