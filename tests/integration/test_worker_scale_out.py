"""Two `hub worker`s in one consumer group share the partner topics; one is killed with SIGKILL mid-load, the other
takes its partitions over, and the killed one comes back (another rebalance, mid-load for the survivor). Then the
warehouse is audited against what is on the topic, read independently: every event published is loaded, withheld
or dead-lettered exactly once; no message has two decisions; event_count equals a GROUP BY over event."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from kafka import KafkaProducer
from sqlalchemy import text

from producers.feed_registry import get_feed
from tests.support.audit import audit
from tests.support.hub import HubEnv, Worker, group_members, wait_for
from tests.support.open_data import SUSSEX_STREET

pytestmark = pytest.mark.integration

DATASET = "police-uk-street"
MALFORMED = 25  # messages no loader can read (not an envelope, keyed by no event id): dead letters


def _blocked_writers(hub_env: HubEnv) -> int:
    """Sessions of the warehouse's database waiting for a lock (the workers' own: each worker writes on one).

    A wait on a relation, or on another transaction (a transaction id lock, of no database): the second worker to
    keep a new feed's id scheme waits for the first's transaction (`feed_id_scheme`), which waits on the event table.
    """
    [(n,)] = hub_env.query(
        "SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted "
        "AND pid IN (SELECT pid FROM pg_stat_activity WHERE datname = current_database())",
    )
    return int(n)


def test_a_worker_killed_mid_load_loses_and_doubles_nothing(hub_env: HubEnv, shared_data: Path, tmp_path: Path) -> None:
    topic = hub_env.kafka.partner_topic(DATASET, get_feed(DATASET).default_partner)
    first, second = Worker(hub_env, tmp_path / "first.log"), Worker(hub_env, tmp_path / "second.log")
    again: Worker | None = None
    lock = hub_env.engine.connect()
    try:
        wait_for(lambda: group_members(hub_env) == 2, 90, "both workers in the group")
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
        wait_for(lambda: _blocked_writers(hub_env) == 2, 90, "each worker with a batch waiting to write")
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

    audited = audit(hub_env, [topic], "scale-out")
    audited.check()
    assert audited.malformed == MALFORMED and audited.published > 10_000
    assert audited.dead == MALFORMED
    # each event published once: one decision each
    assert hub_env.query("SELECT count(*), count(DISTINCT event_id) FROM decision") == [(audited.published,) * 2]
