"""Broken rows are reported row by row; every published event is loaded, unlocated or dead-lettered."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer
from sqlalchemy import text

from producers.feed_registry import get_feed
from tests.support.hub import HubEnv, Worker
from tests.support.open_data import EASTBOURNE_STREET

pytestmark = pytest.mark.integration


def _line(values: list[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values)
    return out.getvalue().encode()


@pytest.fixture(scope="module")
def broken_file(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten good rows, then one row for each kind of breakage, then a row without and one outside coverage."""
    with (shared_data / EASTBOURNE_STREET).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header, good = rows[0], rows[1:11]
    col = {name: i for i, name in enumerate(header)}

    def variant(**changes: str) -> list[str]:
        row = list(good[0])
        row[col["Crime ID"]] = uuid.uuid4().hex * 2
        for name, value in changes.items():
            row[col[name.replace("_", " ")]] = value
        return row

    path = tmp_path_factory.mktemp("broken") / "broken.csv"
    body = b"".join(_line(r) for r in [header, *good])  # rows 2..11
    body += _line(variant(Longitude="not-a-number"))  # row 12
    body += _line(variant(Latitude="123.4"))  # row 13
    body += _line(variant(Month=""))  # row 14
    body += _line(variant()[:-2])  # row 15: two columns short
    body += _line(variant(Location="On or near XXXX")).replace(b"XXXX", b"\xff\xfe")  # row 16
    body += _line(variant(Longitude="", Latitude=""))  # row 17: valid, no location
    body += _line(variant(Longitude="2.3522", Latitude="48.8566"))  # row 18: valid, Paris
    path.write_bytes(body)
    return path


@pytest.fixture(scope="module")
def published(hub_env: HubEnv, worker: Worker, broken_file: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "deploy.cli", "publish", "police-uk-street", str(broken_file)],
        env={**os.environ, **hub_env.env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    _inject_malformed(hub_env)
    worker.wait_until_loaded()
    return result


MALFORMED = 4


def _inject_malformed(hub_env: HubEnv) -> None:
    """Messages no hub producer would send: not JSON, not an envelope, an unknown dataset, a wrong key."""
    partner = get_feed("police-uk-street").default_partner  # on the topic of the partner that published the file
    topic = hub_env.kafka.partner_topic("police-uk-street", partner)
    good = {
        "event_id": str(uuid.uuid4()),
        "dataset": "police-uk-street",
        "partner": partner,
        "schema_version": 1,
        "occurred": {"start": "2019-01-01", "end": "2019-01-31", "precision": "month"},
        "location": None,
        "category": "drugs",
        "attributes": {},
    }
    producer = KafkaProducer(**hub_env.admin.kafka_python(), acks="all", enable_idempotence=True)
    producer.send(topic, key=b"k1", value=b"{not json")
    producer.send(topic, key=b"k2", value=json.dumps({"hello": "world"}).encode())
    unknown = {**good, "dataset": "no-such-dataset"}
    producer.send(topic, key=str(unknown["event_id"]).encode(), value=json.dumps(unknown).encode())
    producer.send(topic, key=b"not-the-event-id", value=json.dumps(good).encode())
    producer.flush()
    producer.close()


def test_a_file_with_broken_rows_fails_the_publish(published: subprocess.CompletedProcess[str]) -> None:
    assert published.returncode == 1


def test_the_publish_counts_rows_read_and_published(published: subprocess.CompletedProcess[str]) -> None:
    assert "17 rows read, 12 published" in published.stderr, published.stderr


def test_the_publish_counts_rows_rejected(published: subprocess.CompletedProcess[str]) -> None:
    assert "5 rejected" in published.stderr


@pytest.mark.parametrize(
    "problem",
    [
        "row 12, field 'Longitude'",
        "row 13, field 'Latitude'",
        "row 14, field 'Month'",
        "row 15: expected 12 columns, found 10",
        "row 16, field 'Location': is not valid UTF-8",
    ],
)
def test_each_broken_row_is_reported_with_file_row_and_field(
    published: subprocess.CompletedProcess[str], broken_file: Path, problem: str
) -> None:
    assert f"{broken_file}, {problem}" in published.stderr


@dataclass(frozen=True)
class Outcomes:
    """What became of every published or injected message."""

    loaded: int
    unlocated_by_status: dict[str, int]
    dead: int
    withheld: int
    decided: int
    reasons: list[str]


@pytest.fixture(scope="module")
def outcomes(published: subprocess.CompletedProcess[str], hub_env: HubEnv) -> Outcomes:
    with hub_env.engine.connect() as conn:
        by_status: dict[str, int] = dict(
            conn.execute(text("SELECT location_status, count(*) FROM event GROUP BY 1")).all()
        )
        dead = conn.execute(text("SELECT count(*) FROM dead_letter")).scalar_one()
        withheld = conn.execute(text("SELECT count(*) FROM decision WHERE outcome = 'withheld'")).scalar_one()
        decided = conn.execute(text("SELECT count(DISTINCT event_id) FROM decision")).scalar_one()
        reasons = [r[0] for r in conn.execute(text("SELECT reason FROM dead_letter ORDER BY reason"))]
    loaded = by_status.pop("located")
    return Outcomes(loaded, by_status, dead, withheld, decided, reasons)


def test_unlocated_events_are_loaded_with_their_reason(outcomes: Outcomes) -> None:
    assert outcomes.unlocated_by_status == {"no_location": 1, "outside_coverage": 1}


def test_every_malformed_message_is_dead_lettered(outcomes: Outcomes) -> None:
    assert outcomes.dead == MALFORMED


def test_no_event_is_withheld(outcomes: Outcomes) -> None:
    assert outcomes.withheld == 0  # police-uk events are covered by the packaged protocols


def test_published_equals_loaded_plus_dead_lettered_plus_unlocated(outcomes: Outcomes) -> None:
    unlocated = sum(outcomes.unlocated_by_status.values())
    assert outcomes.loaded + unlocated + outcomes.withheld + outcomes.dead == 12 + MALFORMED


def test_every_decoded_event_has_one_decision(outcomes: Outcomes) -> None:
    unlocated = sum(outcomes.unlocated_by_status.values())
    assert outcomes.decided == outcomes.loaded + unlocated + outcomes.withheld  # one decision per decoded event


@pytest.mark.parametrize("reason", ["not valid UTF-8 JSON", "unknown dataset", "key is not the event id"])
def test_each_dead_letter_says_why(outcomes: Outcomes, reason: str) -> None:
    assert any(reason in r for r in outcomes.reasons)


def test_a_dead_letter_that_is_no_envelope_says_so(outcomes: Outcomes) -> None:
    assert any(r.startswith("invalid envelope") for r in outcomes.reasons)


@pytest.fixture(scope="module")
def dead_letters(published: subprocess.CompletedProcess[str], hub_env: HubEnv) -> list[Any]:
    """Every message on the dead-letter topic."""
    consumer = KafkaConsumer(
        hub_env.kafka.dead_letter_topic,
        **hub_env.admin.kafka_python(),
        auto_offset_reset="earliest",
        consumer_timeout_ms=5000,
    )
    messages = list(consumer)
    consumer.close()
    return messages


def test_dead_letters_are_on_the_dead_letter_topic(dead_letters: list[Any]) -> None:
    assert len(dead_letters) == MALFORMED


def test_dead_letters_on_the_topic_carry_their_reason(dead_letters: list[Any]) -> None:
    assert all(dict(m.headers).get("dlq.reason") for m in dead_letters)
