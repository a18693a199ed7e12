"""`hub publish` as a partner on the real broker: an oversized row (a 10 MB cell; an event over the broker's maximum
message size, refused before sending or, with the producer's limit set above the broker's, by the broker itself) and
a truncated XML export. The events that reached the topic are the summary's published count, and the exit code says
what was lost.

Events are counted by their key (the event id): after the broker refuses a record, the records caught up in the
producer's abort are sent again, and one the broker had in fact written before the abort is then on the topic twice
(the same event, which the loader keeps once)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from kafka import KafkaConsumer

from producers.feed_registry import get_feed
from producers.generators.istv_ae import GENERATOR as ISTV_GENERATOR
from tests.support.broken_files import PLANTED, TEN_MB, csv_bytes, street_row
from tests.support.feeds import generated, write
from tests.support.hub import HubEnv, client_env

pytestmark = pytest.mark.integration

STREET = get_feed("police-uk-street").name
ISTV = get_feed("istv-ae").name
SUMMARY = re.compile(r"(\d+) rows read, (\d+) published, .* (\d+) rejected, (\d+) not attempted")


@dataclass(frozen=True)
class Published:
    """One `hub publish` run: its exit code, output, the summary's counts and the events (keys) on its topic."""

    returncode: int
    stderr: str
    read: int
    published: int
    rejected: int
    not_attempted: int
    on_topic: int


def _publish(hub_env: HubEnv, dataset: str, partner: str, path: Path, **env: str) -> Published:
    """`path` published as `partner` (its own broker principal), and what its topic then holds."""
    access = hub_env.partner(partner, [dataset])
    done = subprocess.run(
        [sys.executable, "-m", "deploy.cli", "publish", dataset, str(path), "--partner", partner],
        env={**os.environ, **hub_env.env, **client_env(access), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    match = SUMMARY.search(done.stderr)
    assert match, done.stderr
    consumer = KafkaConsumer(
        hub_env.kafka.partner_topic(dataset, partner),
        **hub_env.admin.kafka_python(),
        auto_offset_reset="earliest",
        consumer_timeout_ms=5000,
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    on_topic = len({message.key for message in consumer})
    consumer.close()
    read, published, rejected, not_attempted = map(int, match.groups())
    return Published(done.returncode, done.stderr, read, published, rejected, not_attempted, on_topic)


@pytest.fixture(scope="module")
def oversized(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Rows 2-3 good; row 4 with a 10 MB cell; row 5 whose event is 1.2 MB (over the broker's 1 MiB); rows 6-7 good."""
    rows = [street_row(1), street_row(2)]
    rows.append(street_row(3, Location=PLANTED + "x" * TEN_MB))
    rows.append(street_row(4, **{"Falls within": "é" * 600_000}))
    rows += [street_row(5), street_row(6)]
    path = tmp_path_factory.mktemp("oversized") / "oversized.csv"
    path.write_bytes(csv_bytes(rows))
    return path


@pytest.fixture(scope="module")
def checked_first(hub_env: HubEnv, oversized: Path) -> Published:
    return _publish(hub_env, STREET, "oversize-checked", oversized)


@pytest.fixture(scope="module")
def refused_by_broker(hub_env: HubEnv, oversized: Path) -> Published:
    """The producer's limit set above the broker's: the broker itself refuses row 5's event."""
    return _publish(hub_env, STREET, "oversize-broker", oversized, HUB_PRODUCER_MAX_MESSAGE_BYTES="4000000")


@pytest.fixture(scope="module")
def truncated(hub_env: HubEnv, tmp_path_factory: pytest.TempPathFactory) -> Published:
    """An ISTV XML export of 20 records cut inside record 13."""
    path = write(ISTV_GENERATOR, tmp_path_factory.mktemp("truncated") / "istv.xml", generated(ISTV_GENERATOR, 20))
    body = path.read_bytes()
    thirteenth = [m.start() for m in re.finditer(rb"<Attendance>", body)][12]
    path.write_bytes(body[: thirteenth + 40])
    return _publish(hub_env, ISTV, "truncated-trust", path)


@pytest.mark.parametrize("run", ["checked_first", "refused_by_broker"])
def test_oversized_rows_are_rejected_and_the_rest_reach_the_topic(run: str, request: pytest.FixtureRequest) -> None:
    result: Published = request.getfixturevalue(run)
    assert (result.read, result.published, result.rejected, result.not_attempted) == (6, 4, 2, 0), result.stderr
    assert result.on_topic == result.published
    assert result.returncode == 1


def test_an_event_over_the_brokers_maximum_is_named_before_sending(checked_first: Published, oversized: Path) -> None:
    assert f"{oversized}, row 4, field 'Location': is longer than 1,048,576 characters" in checked_first.stderr
    too_large = "the event is larger than the broker's maximum message size (1,048,588 bytes)"
    assert f"{oversized}, row 5, field 'Falls within': {too_large}" in checked_first.stderr


def test_an_event_the_broker_refuses_is_named_by_its_row(refused_by_broker: Published, oversized: Path) -> None:
    assert f"{oversized}, row 5: the broker refused the event as larger than its maximum" in refused_by_broker.stderr


def test_a_truncated_file_counts_what_was_sent_and_the_rest_as_not_attempted(truncated: Published) -> None:
    assert (truncated.read, truncated.published, truncated.not_attempted) == (12, 12, 1), truncated.stderr
    assert truncated.on_topic == truncated.published
    assert "line 2, row 13: not well-formed XML" in truncated.stderr
    assert truncated.returncode == 4


@pytest.mark.parametrize("run", ["checked_first", "refused_by_broker", "truncated"])
def test_no_traceback_and_no_value_of_the_file_in_the_output(run: str, request: pytest.FixtureRequest) -> None:
    stderr = request.getfixturevalue(run).stderr
    assert "Traceback" not in stderr and "Fakename" not in stderr and "éé" not in stderr
