"""Two `hub worker`s in one consumer group share the partner topics; one is killed with SIGKILL mid-load, the other
takes its partitions over, and the killed one comes back (another rebalance, mid-load for the survivor). Then the
warehouse is audited against what is on the topic, read independently: every event published is loaded, withheld
or dead-lettered exactly once; no message has two decisions; event_count equals a GROUP BY over event."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError
from sqlalchemy import text

from producers.feed_registry import get_feed
from stream_processors.settings import loader_group
from tests.support.hub import HubEnv, Worker
from tests.support.open_data import SUSSEX_STREET

pytestmark = pytest.mark.integration

DATASET = "police-uk-street"
MALFORMED = 25  # messages no loader can read (not an envelope, keyed by no event id): dead letters
# The grouping of event_count (migration 0006).
KEY = (
    "dataset, period_month, category, ward_code, ward_vintage, district_code, csp_code, county_code, pfa_code, "
    "location_status, protocols"
)


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `condition` until it holds; fail naming `what` after `timeout` seconds (a bound, not a measurement)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout:.0f} s: {what}")
        time.sleep(0.2)


def _stable_members(hub_env: HubEnv) -> int:
    """How many members the loader's group has once it is stable (0 while it rebalances). Every partner topic has
    more partitions than the two workers, so each member of a stable group has some."""
    admin = KafkaAdminClient(**hub_env.admin.kafka_python(), client_id="test-scale-out")
    try:
        group = loader_group(hub_env.prefix)
        found = admin.describe_groups([group])[group]
    except KafkaError:
        return 0
    finally:
        admin.close()
    return len(found["members"]) if found["group_state"] == "Stable" else 0


def _blocked_writers(hub_env: HubEnv) -> int:
    """Sessions of the warehouse's database waiting for a lock (the workers' own: each worker writes on one).

    A wait on a relation, or on another transaction (a transaction id lock, of no database): the second worker to
    keep a new feed's id scheme waits for the first's transaction (`feed_id_scheme`), which waits on the event table.
    """
    return _count(
        hub_env,
        "SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted "
        "AND pid IN (SELECT pid FROM pg_stat_activity WHERE datname = current_database())",
    )


def _topic_contents(hub_env: HubEnv, topic: str) -> list[tuple[bytes | None, bytes | None]]:
    """Every (key, value) on `topic`, read from its start as the operator."""
    consumer = KafkaConsumer(**hub_env.admin.kafka_python(), client_id="test-scale-out", enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        ends = consumer.end_offsets(partitions)
        found: list[tuple[bytes | None, bytes | None]] = []
        while any(consumer.position(tp) < ends[tp] for tp in partitions):
            for records in consumer.poll(timeout_ms=1000).values():
                found.extend((r.key, r.value) for r in records)
        return found
    finally:
        consumer.close()


def _is_event_id(key: bytes | None) -> bool:
    try:
        return key is not None and str(uuid.UUID(key.decode("ascii"))) == key.decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return False


def _count(hub_env: HubEnv, sql: str) -> int:
    [(n,)] = hub_env.query(sql)
    return int(n)


def test_a_worker_killed_mid_load_loses_and_doubles_nothing(hub_env: HubEnv, shared_data: Path, tmp_path: Path) -> None:
    topic = hub_env.kafka.partner_topic(DATASET, get_feed(DATASET).default_partner)
    first, second = Worker(hub_env, tmp_path / "first.log"), Worker(hub_env, tmp_path / "second.log")
    again: Worker | None = None
    lock = hub_env.engine.connect()
    try:
        _wait(lambda: _stable_members(hub_env) == 2, 90, "both workers in the group")
        # The event table locked against writes: each worker's first batch stops mid-transaction, so the kill below
        # is mid-batch whatever the machine's speed. The lock is let go once the killed one is gone.
        lock.execute(text("LOCK TABLE event IN EXCLUSIVE MODE"))
        result = subprocess.run(
            [sys.executable, "-m", "deploy.cli", "publish", DATASET, str(shared_data / SUSSEX_STREET)],
            env={**os.environ, **hub_env.env},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        producer = KafkaProducer(**hub_env.admin.kafka_python(), acks="all")
        for n in range(MALFORMED):  # spread over the partitions by their keys
            producer.send(topic, key=f"not-an-event-id-{n}".encode(), value=b"{not json")
        producer.flush()
        producer.close()
        _wait(lambda: _blocked_writers(hub_env) == 2, 90, "each worker with a batch waiting to write")
        first.process.send_signal(signal.SIGKILL)
        first.process.wait()
        lock.rollback()
        # Comes back at once: the group rebalances when the killed one's session expires, mid-load for the other.
        again = Worker(hub_env, tmp_path / "again.log")
        second.wait_until_loaded(timeout=120)
    finally:
        lock.close()
        for worker in (second, again):
            if worker is not None:
                worker.stop()
        first.stop()
    assert first.process.returncode == -signal.SIGKILL

    contents = _topic_contents(hub_env, topic)
    events = {key for key, _ in contents if _is_event_id(key)}
    malformed = [key for key, _ in contents if not _is_event_id(key)]
    assert len(malformed) == MALFORMED and len(events) > 10_000
    assert len(contents) == len(events) + len(malformed)  # each event published once: one decision each
    loaded = _count(hub_env, "SELECT count(*) FROM event")
    withheld = _count(
        hub_env,
        "SELECT count(DISTINCT event_id) FROM decision d WHERE outcome = 'withheld' "
        "AND NOT EXISTS (SELECT 1 FROM event e WHERE e.event_id = d.event_id)",
    )
    dead = _count(hub_env, "SELECT count(*) FROM dead_letter")
    assert (loaded, withheld, dead) != (0, 0, 0)
    assert loaded + withheld + dead == len(events) + len(malformed), (loaded, withheld, dead)
    assert _count(hub_env, "SELECT count(DISTINCT event_id) FROM event") == loaded
    assert _count(hub_env, "SELECT count(*) FROM decision") == len(events)
    assert _count(hub_env, "SELECT count(DISTINCT event_id) FROM decision") == len(events)

    kept = hub_env.query(f"SELECT {KEY}, events FROM event_count WHERE events <> 0")
    computed = hub_env.query(f"SELECT {KEY}, count(*) FROM event GROUP BY {KEY}")

    def rows(found: list[tuple[object, ...]]) -> Counter[tuple[object, ...]]:
        return Counter(tuple(tuple(v) if isinstance(v, list) else v for v in row) for row in found)

    assert rows(kept) == rows(computed)
    assert sum(int(str(row[-1])) for row in computed) == loaded
