"""Every dead-letter reason the loader and the sink write has a kind of its own; the log line and the metrics carry
the kind, never the reason's text."""

from __future__ import annotations

import json
import uuid
from collections import Counter

import pytest

from stream_processors.batch import RawMessage, decode_batch
from stream_processors.reason_kinds import OTHER, count_kinds, reason_kind, summary
from warehouse.sink import DeadLetterRow

PREFIX = "hub"
TOPIC = "hub.events.police-uk-street.sussex-police"


def _envelope(**changes: object) -> dict[str, object]:
    event_id = str(uuid.uuid4())
    return {
        "envelope_version": 1,
        "event_id": event_id,
        "dataset": "police-uk-street",
        "partner": "sussex-police",
        "schema_version": 1,
        "occurred": {"start": "2024-01-01", "end": "2024-01-31", "precision": "month"},
        "location": None,
        "category": "drugs",
        "attributes": {},
        **changes,
    }


def _message(topic: str, key: bytes | None, value: bytes | None) -> RawMessage:
    return RawMessage(topic, 0, 0, key, value)


def _json(envelope: dict[str, object]) -> bytes:
    return json.dumps(envelope).encode()


def _cases() -> list[tuple[RawMessage, str]]:
    unknown = _envelope(dataset="no-such-dataset")
    version = _envelope(schema_version=99)
    other_dataset = _envelope(dataset="fire-incidents")
    other_partner = _envelope(partner="kent-police")
    good = _envelope()
    return [
        (_message("elsewhere.topic", b"k", b"{}"), "not_partner_topic"),
        (_message(TOPIC, b"k", b""), "empty_payload"),
        (_message(TOPIC, None, None), "empty_payload"),
        (_message(TOPIC, b"k", b'{"a": "\\u0000"}'), "nul_character"),
        (_message(TOPIC, b"k", b"{not json"), "not_json"),
        (_message(TOPIC, b"k", b'{"hello": "world"}'), "invalid_envelope"),
        (_message(TOPIC, str(unknown["event_id"]).encode(), _json(unknown)), "unknown_dataset"),
        (_message(TOPIC, str(version["event_id"]).encode(), _json(version)), "unsupported_schema"),
        (_message(TOPIC, str(other_dataset["event_id"]).encode(), _json(other_dataset)), "dataset_mismatch"),
        (_message(TOPIC, str(other_partner["event_id"]).encode(), _json(other_partner)), "partner_mismatch"),
        (_message(TOPIC, b"not-the-id", _json(good)), "key_mismatch"),
    ]


@pytest.mark.parametrize(("message", "kind"), _cases())
def test_each_reason_the_decoder_writes_has_its_kind(message: RawMessage, kind: str) -> None:
    decoded = decode_batch([message], PREFIX)
    assert len(decoded.dead) == 1
    assert reason_kind(decoded.dead[0].reason) == kind


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("event_id_conflict: the event id belongs to partner 'a' (x); partner 'b' (x) may not", "event_id_conflict"),
        ("retraction_not_publisher: partner 'b' (x) did not publish the event", "retraction_not_publisher"),
        ("something new", OTHER),
    ],
)
def test_the_sinks_refusals_have_their_kinds(reason: str, kind: str) -> None:
    assert reason_kind(reason) == kind


def test_the_summary_counts_kinds_most_first_and_never_quotes_a_reason() -> None:
    letters = [
        DeadLetterRow(TOPIC, 0, n, None, "police-uk-street", "sussex-police", reason)
        for n, reason in enumerate(["payload is not valid UTF-8 JSON"] * 2 + ["unknown dataset 'Zephyr Fakename'"])
    ]
    text = summary(count_kinds(letters))
    assert text == "not_json 2, unknown_dataset 1"
    assert summary(Counter()) == "none"
