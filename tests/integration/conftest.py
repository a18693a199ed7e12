"""Real Kafka and PostGIS for integration tests.

Order of preference: HUB_KAFKA_BOOTSTRAP / HUB_DATABASE_URL when set; testcontainers when a Docker engine
answers; otherwise the embedded services of `hub up`. Failing to get a broker or database fails the tests
(never skips them).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.factory import create_app
from deploy import local, settings
from deploy.lag import wait_for_loader
from deploy.protocol_files import configured_register
from deploy.settings import DatabaseSettings, KafkaSettings
from deploy.topics import dataset_topics, ensure_topics
from warehouse import db, migrate
from warehouse.db import session_scope
from warehouse.keys import create_key
from warehouse.reference import load_areas, read_areas

pytestmark = pytest.mark.integration


def _docker_available() -> bool:
    try:
        import docker

        docker.from_env().ping()
        return True
    except Exception:
        return False


@dataclass(frozen=True)
class Services:
    """Where the real broker and database are for this test session."""

    kafka_bootstrap: str | None
    database_url: str | None


def _clear_caches() -> None:
    settings.get_kafka_settings.cache_clear()
    settings.get_database_settings.cache_clear()
    settings.get_protocol_settings.cache_clear()
    configured_register.cache_clear()
    db.get_engine.cache_clear()


def _stop_local() -> None:
    """Stop what this session started, judged by the environment as it is now (not a module's overrides)."""
    _clear_caches()
    local.down()


@pytest.fixture(scope="session")
def services() -> Iterator[Services]:
    """Start (or find) the broker and the database; fail loudly when neither can be had."""
    with ExitStack() as stack:
        kafka_env, db_env = os.environ.get("HUB_KAFKA_BOOTSTRAP"), os.environ.get("HUB_DATABASE_URL")
        if kafka_env is None and db_env is None and _docker_available():
            from testcontainers.kafka import KafkaContainer
            from testcontainers.postgres import PostgresContainer

            kafka_c = stack.enter_context(KafkaContainer("apache/kafka:3.9.1").with_kraft())
            pg_c = stack.enter_context(PostgresContainer("postgis/postgis:15-3.4", driver="psycopg"))
            yield Services(kafka_c.get_bootstrap_server(), pg_c.get_connection_url())
            return
        try:
            started = local.ensure_up()
        except local.LocalInfraError as exc:
            pytest.fail(f"no Kafka broker or PostGIS database could be started: {exc}")
        if started and os.environ.get("HUB_TEST_KEEP_SERVICES") is None:
            stack.callback(_stop_local)
        yield Services(kafka_env, db_env)


@dataclass(frozen=True)
class HubEnv:
    """An isolated hub: its own topic prefix and its own database on the shared services."""

    prefix: str
    database_url: str
    kafka: KafkaSettings
    env: dict[str, str]

    @property
    def database(self) -> DatabaseSettings:
        return DatabaseSettings(url=self.database_url)


@pytest.fixture(scope="module")
def extra_env() -> dict[str, str]:
    """More HUB_* settings for a module's hub (a module overrides this fixture, e.g. for its own protocols)."""
    return {}


@pytest.fixture(scope="module")
def hub_env(
    services: Services, shared_data: Path, monkeypatch_module: pytest.MonkeyPatch, extra_env: dict[str, str]
) -> Iterator[HubEnv]:
    """A fresh database (migrated, May 2024 wards loaded) and topic prefix, set in os.environ for this module."""
    name = f"hub_test_{uuid.uuid4().hex[:10]}"
    try:
        url = local.create_database(name, services.database_url)
    except local.LocalInfraError as exc:
        pytest.fail(str(exc))
    prefix = f"t{uuid.uuid4().hex[:10]}"
    env = {"HUB_KAFKA_TOPIC_PREFIX": prefix, "HUB_DATABASE_URL": url, **extra_env}
    if services.kafka_bootstrap:
        env["HUB_KAFKA_BOOTSTRAP"] = services.kafka_bootstrap
    for key, value in env.items():
        monkeypatch_module.setenv(key, value)
    _clear_caches()
    migrate.upgrade(url)
    load_areas(
        read_areas(shared_data / "boundaries/wards_2024_bsc_epsg27700.geojson", "ward_code", "ward_name"),
        "wards-2024",
        "ward",
        url,
    )
    kafka = KafkaSettings(bootstrap=services.kafka_bootstrap, topic_prefix=prefix)
    ensure_topics(kafka)
    yield HubEnv(prefix, url, kafka, env)
    _clear_caches()
    db.get_engine(url).dispose()
    local.drop_database(name, services.database_url)


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


class Worker:
    """`hub worker` as a real subprocess."""

    def __init__(self, hub: HubEnv, log: Path) -> None:
        self.hub = hub
        self.log = log
        env = {**os.environ, **hub.env, "HUB_WORKER_BATCH_SECONDS": "0.2"}
        self._handle = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "deploy.cli", "worker"], env=env, stdout=self._handle, stderr=subprocess.STDOUT
        )

    def wait_until_loaded(self, timeout: float = 120) -> None:
        """Block until the worker has committed everything on the dataset topics."""
        deadline = time.monotonic() + timeout
        lag = wait_for_loader(self.hub.kafka, dataset_topics(self.hub.kafka), timeout)
        if self.process.poll() is not None:
            pytest.fail(f"the worker exited ({self.process.returncode}):\n{self.log.read_text()[-3000:]}")
        if lag or time.monotonic() > deadline:
            pytest.fail(f"the worker is {lag} events behind after {timeout}s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._handle.close()


@pytest.fixture(scope="module")
def worker(hub_env: HubEnv, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    running = Worker(hub_env, tmp_path_factory.mktemp("worker") / "worker.log")
    yield running
    running.stop()


def api_client(org: str, role: str) -> TestClient:
    """An in-process API client carrying a real key issued for `org` in `role` (in this module's database)."""
    with session_scope() as session:
        token = create_key(session, org, role)
    return TestClient(create_app(), headers={"Authorization": f"Bearer {token}"})


def run_all(commands: list[list[str]], env: dict[str, str]) -> None:
    """Run `hub` commands side by side; each must succeed (the failure names the command and its stderr)."""
    running = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for command in commands
    ]
    for command, process in zip(commands, running, strict=True):
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, f"{command[3:5]}: {err[-2000:]}"
