"""Fixtures of the integration tests: a hub per module on the real Kafka and PostGIS (tests/conftest.py's
`services`), its worker (tests.support.hub)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.hub import HubEnv, Services, Worker, create_hub

pytestmark = pytest.mark.integration


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
