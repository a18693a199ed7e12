"""Turns a batch of consumed messages into warehouse rows and dead letters (no I/O)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import ValidationError

from sharing_protocols.catalogue import CATALOGUE
from sharing_protocols.envelope import BngPoint, EventEnvelope, Wgs84Point
from stream_processors.geocoding import WardIndex, wgs84_to_bng
from warehouse.models import LOCATED, NO_LOCATION, OUTSIDE_COVERAGE
from warehouse.sink import DeadLetterRow, EventRow


@dataclass(frozen=True)
class RawMessage:
    """A consumed Kafka record, as far as the loader needs it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass(frozen=True)
class BatchResult:
    """What a batch becomes: rows to upsert and messages to dead-letter."""

    events: list[EventRow]
    dead_letters: list[DeadLetterRow]


class MalformedMessage(ValueError):
    """A message that cannot become an event; the message says why, without quoting the payload."""


def _describe(exc: ValidationError) -> str:
    first = exc.errors(include_input=False, include_url=False)[0]
    where = ".".join(str(p) for p in first["loc"]) or "payload"
    return f"invalid envelope: {where}: {first['msg']} ({exc.error_count()} error(s))"


def decode(message: RawMessage, topic_datasets: Mapping[str, str]) -> EventEnvelope:
    """The envelope in `message`, checked against the catalogue and the topic it arrived on."""
    if not message.value:
        raise MalformedMessage("empty payload")
    try:
        envelope = EventEnvelope.from_bytes(message.value)
    except ValidationError as exc:
        if exc.errors()[0]["type"] == "json_invalid":
            raise MalformedMessage("payload is not valid UTF-8 JSON") from None
        raise MalformedMessage(_describe(exc)) from None
    spec = CATALOGUE.get(envelope.dataset)
    if spec is None:
        raise MalformedMessage(f"unknown dataset {envelope.dataset!r}")
    if envelope.schema_version != spec.schema_version:
        raise MalformedMessage(f"unsupported schema version {envelope.schema_version} for dataset {envelope.dataset!r}")
    expected = topic_datasets.get(message.topic)
    if expected != envelope.dataset:
        raise MalformedMessage(f"dataset {envelope.dataset!r} published on topic {message.topic!r}")
    if message.key != str(envelope.event_id).encode():
        raise MalformedMessage("message key is not the event id")
    return envelope


def _coordinates(envelopes: Sequence[EventEnvelope]) -> tuple[np.ndarray, np.ndarray]:
    """EPSG:27700 x/y arrays for the envelopes (NaN where there is no location)."""
    x = np.full(len(envelopes), np.nan)
    y = np.full(len(envelopes), np.nan)
    wgs = [i for i, e in enumerate(envelopes) if isinstance(e.location, Wgs84Point)]
    if wgs:
        lon = [envelopes[i].location.lon for i in wgs]  # type: ignore[union-attr]
        lat = [envelopes[i].location.lat for i in wgs]  # type: ignore[union-attr]
        x[wgs], y[wgs] = wgs84_to_bng(lon, lat)
    for i, e in enumerate(envelopes):
        if isinstance(e.location, BngPoint):
            x[i], y[i] = e.location.easting, e.location.northing
    return x, y


def process(messages: Sequence[RawMessage], wards: WardIndex, topic_datasets: Mapping[str, str]) -> BatchResult:
    """Decode, geocode and shape a batch; every message becomes exactly one event row or dead letter."""
    decoded: list[tuple[RawMessage, EventEnvelope]] = []
    dead: list[DeadLetterRow] = []
    for message in messages:
        try:
            decoded.append((message, decode(message, topic_datasets)))
        except MalformedMessage as exc:
            key = message.key.decode("utf-8", "replace") if message.key else None
            dead.append(
                DeadLetterRow(
                    message.topic,
                    message.partition,
                    message.offset,
                    key,
                    topic_datasets.get(message.topic),
                    None,
                    str(exc),
                )
            )
    envelopes = [e for _, e in decoded]
    x, y = _coordinates(envelopes)
    located = ~np.isnan(x)
    codes: list[str | None] = [None] * len(envelopes)
    if located.any():
        found = wards.locate(x[located], y[located])
        for index, code in zip(np.flatnonzero(located).tolist(), found, strict=True):
            codes[index] = code
    rows = []
    for i, (message, envelope) in enumerate(decoded):
        has_point = bool(located[i])
        status = LOCATED if codes[i] else (OUTSIDE_COVERAGE if has_point else NO_LOCATION)
        rows.append(
            EventRow(
                event_id=envelope.event_id,
                dataset=envelope.dataset,
                partner=envelope.partner,
                schema_version=envelope.schema_version,
                period_start=envelope.occurred.start,
                period_end=envelope.occurred.end,
                period_precision=envelope.occurred.precision,
                period_month=envelope.occurred.start.replace(day=1),
                category=envelope.category,
                attributes_json=json.dumps(envelope.attributes, sort_keys=True),
                x=float(x[i]) if has_point else None,
                y=float(y[i]) if has_point else None,
                location_status=status,
                ward_code=codes[i],
                ward_vintage=wards.vintage if codes[i] else None,
                content_hash=hashlib.sha256(message.value or b"").hexdigest(),
                source_topic=message.topic,
                source_partition=message.partition,
                source_offset=message.offset,
            )
        )
    return BatchResult(rows, dead)
