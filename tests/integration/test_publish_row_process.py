"""`hub publish` of a file large enough for its row work to run in a child process, on the real broker: run to
its end it publishes what the one-process path makes; its child killed part-way, one line says how many events
the broker acknowledged and up to which row, exit 4, and the topic holds exactly those events."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition

from producers.feed_registry import get_feed
from producers.publish import PublishSummary, numbered
from producers.row_process import ROW_PROCESS_MIN_BYTES
from tests.support.feeds import options
from tests.support.hub import HubEnv, publishing, wait_for
from tests.support.open_data import ESSEX_STREET, HAMPSHIRE_STREET, SHARED_DATA, SUSSEX_STREET

pytestmark = pytest.mark.integration

FEED = get_feed("police-uk-street")
KILLED = re.compile(
    r"the process reading its rows was killed \(SIGKILL\): (\d+) events acknowledged by the broker "
    r"\(up to row (\d+)\); the rows after it were not attempted"
)


@pytest.fixture(scope="module")
def large_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Essex's, Hampshire's and Sussex's January 2019 street files in one (about 40,600 crimes, 8.9 MB)."""
    path = tmp_path_factory.mktemp("large") / "2019-01-three-forces-street.csv"
    with path.open("w", encoding="utf-8") as out:
        for n, name in enumerate((ESSEX_STREET, HAMPSHIRE_STREET, SUSSEX_STREET)):
            lines = (SHARED_DATA / name).read_text(encoding="utf-8").splitlines(keepends=True)
            out.writelines(lines if n == 0 else lines[1:])
    assert path.stat().st_size >= ROW_PROCESS_MIN_BYTES
    return path


def _keys(hub_env: HubEnv, topic: str) -> list[bytes]:
    consumer = KafkaConsumer(
        topic, **hub_env.admin.kafka_python(), auto_offset_reset="earliest", consumer_timeout_ms=5000
    )
    try:
        return [message.key for message in consumer]
    finally:
        consumer.close()


def _on_topic(hub_env: HubEnv, topic: str) -> int:
    """Records on `topic` now (the sum of its partitions' end offsets)."""
    consumer = KafkaConsumer(**hub_env.admin.kafka_python())
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
        return sum(consumer.end_offsets(partitions).values())
    finally:
        consumer.close()


def _row_process(parent: int) -> int | None:
    """The pid of `parent`'s row process child, if it runs."""
    for entry in Path("/proc").iterdir():
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) if entry.name.isdigit() else 0
            if ppid == parent and b"producers.row_process" in (entry / "cmdline").read_bytes():
                return int(entry.name)
        except (FileNotFoundError, ProcessLookupError):
            continue
    return None


def test_a_killed_row_process_says_what_was_acknowledged_up_to_which_row_and_exits_4(
    hub_env: HubEnv, large_file: Path
) -> None:
    topic = hub_env.kafka.partner_topic(FEED.name, FEED.default_partner)
    running = publishing(hub_env, FEED.name, large_file)
    try:
        wait_for(lambda: _on_topic(hub_env, topic) >= 3000, 180, "some events on the topic")
        child = _row_process(running.pid)
        assert child is not None, "no row process under hub publish"
        os.kill(child, signal.SIGKILL)
        _, err = running.communicate(timeout=300)
    finally:
        if running.poll() is None:
            running.kill()
            running.wait()
    assert running.returncode == 4, err[-2000:]
    match = KILLED.search(err)
    assert match, err[-2000:]
    acknowledged, last_row = map(int, match.groups())
    keys = _keys(hub_env, topic)
    assert len(keys) == len(set(keys)) == acknowledged
    summary = PublishSummary(str(large_file), FEED.name)
    made = sum(1 for row, _ in numbered(FEED, large_file, options(FEED), summary) if row <= last_row)
    assert made == acknowledged
    assert acknowledged < summary.published + summary.retracted
    assert "Traceback" not in err
