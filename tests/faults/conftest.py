"""The fault suite's fixtures: its own embedded broker and database (which the cases stop, kill and freeze), a
fresh hub (database and topic prefix) per case, and `Stack`, the hand on those processes.

Run alone (`make faults`: HUB_TEST_FAULTS=1 and a home and ports of its own); tests/conftest.py leaves this
directory out otherwise. On external services (HUB_KAFKA_BOOTSTRAP, HUB_DATABASE_URL) the suite is skipped: it cannot
kill those.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from deploy import local
from deploy.local.kafka_broker import KafkaBroker
from deploy.local.postgres import PostgresServer
from deploy.settings import DatabaseSettings, KafkaSettings, LocalSettings, broker_access
from producers.feed_registry import get_feed
from tests.support.hub import HubEnv, Services, create_hub
from tests.support.open_data import ESSEX_STREET, HAMPSHIRE_STREET, SUSSEX_STREET

pytestmark = pytest.mark.integration

DATASET = "police-uk-street"


def _children(pid: int) -> list[int]:
    """The direct children of `pid` (PostgreSQL's backends and helpers of its postmaster)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


class Stack:
    """The suite's embedded broker and database, as processes to signal."""

    def __init__(self) -> None:
        self.settings = LocalSettings()

    def broker_pid(self) -> int:
        pid = KafkaBroker(self.settings).pid()
        assert pid is not None, "the broker is not running"
        return pid

    def postgres_pid(self) -> int:
        pid = PostgresServer(self.settings).pid()
        assert pid is not None, "PostgreSQL is not running"
        return pid

    def kill_broker(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 60) -> None:
        """Signal the broker (SIGTERM: a clean shutdown; SIGKILL: none) and wait until it is gone."""
        pid = self.broker_pid()
        os.kill(pid, sig)
        _gone(pid, timeout)

    def kill_postgres(self, timeout: float = 60) -> None:
        """Stop PostgreSQL at once (SIGINT: fast shutdown, every session cut) and wait until it is gone."""
        pid = self.postgres_pid()
        os.kill(pid, signal.SIGINT)
        _gone(pid, timeout)

    def freeze_postgres(self) -> list[int]:
        """SIGSTOP the postmaster and every process of it: connections open but nothing answers. The pids frozen."""
        pid = self.postgres_pid()
        frozen = [pid, *_children(pid)]
        for each in frozen:
            os.kill(each, signal.SIGSTOP)
        return frozen

    @staticmethod
    def thaw(frozen: list[int]) -> None:
        for each in reversed(frozen):
            with contextlib.suppress(ProcessLookupError):
                os.kill(each, signal.SIGCONT)

    def start(self) -> None:
        """Start whatever is stopped (`hub up`'s machinery); returns once both answer."""
        local.ensure_up()


def _gone(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists() and "Z" not in _state(pid):
        if time.monotonic() > deadline:
            pytest.fail(f"process {pid} still running {timeout:.0f} s after its signal")
        time.sleep(0.1)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


@pytest.fixture(scope="session")
def services() -> Iterator[Services]:
    """The suite's own embedded broker and database (never a container or an external service)."""
    if KafkaSettings().external or DatabaseSettings().external:
        pytest.skip("the fault suite kills its broker and database: it cannot run on external services")
    started = local.ensure_up()
    yield Services(None, None, broker_access("admin"))
    if started and os.environ.get("HUB_TEST_KEEP_SERVICES") is None:
        local.down()


@pytest.fixture
def stack(services: Services, hub_env: HubEnv) -> Iterator[Stack]:
    """The processes; whatever a case stopped or froze is running again after it (before its hub is dropped)."""
    running = Stack()
    yield running
    running.start()


@pytest.fixture
def hub_env(services: Services, shared_data: Path) -> Iterator[HubEnv]:
    """A fresh database (migrated, May 2024 wards loaded) and topic prefix for one case."""
    yield from create_hub(services, [], shared_data)


@pytest.fixture(scope="session")
def police_file(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One police.uk street file of about 40,600 real crimes: Essex's, Hampshire's and Sussex's January 2019."""
    path = tmp_path_factory.mktemp("feeds") / "2019-01-three-forces-street.csv"
    with path.open("w", encoding="utf-8") as out:
        for n, name in enumerate((ESSEX_STREET, HAMPSHIRE_STREET, SUSSEX_STREET)):
            lines = (shared_data / name).read_text(encoding="utf-8").splitlines(keepends=True)
            out.writelines(lines if n == 0 else lines[1:])
    return path


def progress(hub: HubEnv) -> int:
    """Messages the warehouse has committed (decisions and dead letters): grows with each batch the worker loads."""
    [(n,)] = hub.query("SELECT (SELECT count(*) FROM decision) + (SELECT count(*) FROM dead_letter)")
    return int(n)


def street_topic(hub: HubEnv) -> str:
    """The topic `hub publish police-uk-street` writes (its default partner's)."""
    return hub.kafka.partner_topic(DATASET, get_feed(DATASET).default_partner)


def on_topic(hub: HubEnv, topic: str) -> int:
    """Messages on `topic` now (the sum of its partitions' end offsets)."""
    consumer = KafkaConsumer(**hub.admin.kafka_python(), client_id="test-faults")
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
        return sum(consumer.end_offsets(partitions).values())
    except KafkaError:
        return 0
    finally:
        consumer.close()
