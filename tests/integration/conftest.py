"""Fixtures of the integration tests: real Kafka and PostGIS, a hub per module, its worker (tests.support.hub)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.hub import HubEnv, Services, Worker, create_hub, start_services

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def services() -> Iterator[Services]:
    """Start (or find) the broker and the database; fail loudly when neither can be had."""
    yield from start_services()


@pytest.fixture(scope="module")
def protocol_paths() -> list[Path]:
    """The protocol files or directories of a module's hub (empty: the packaged ones; a module overrides this)."""
    return []


@pytest.fixture(scope="module")
def hub_env(services: Services, shared_data: Path, protocol_paths: list[Path]) -> Iterator[HubEnv]:
    """A fresh database (migrated, May 2024 wards loaded) and topic prefix, with the parts composed for them."""
    yield from create_hub(services, protocol_paths, shared_data)


@pytest.fixture(scope="module")
def worker(hub_env: HubEnv, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    running = Worker(hub_env, tmp_path_factory.mktemp("worker") / "worker.log")
    yield running
    running.stop()
