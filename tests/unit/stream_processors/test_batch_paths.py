"""The batch path (`process`) gives what the per-event path it replaced gave, message for message.

The reference is the old path, kept in `tests/support/loader_reference.py`. Messages: every feed generator's
envelopes on their partner topics (points, postcodes, areas and none), some republished in the same batch,
tombstones, and malformed or misrouted messages. Geocoders: square wards over East Sussex with and without LSOAs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from shapely.geometry import box

from deploy.protocol_files import packaged_protocols_dir
from geography.geocoder import AreaIndex, Geocoder, PostcodeIndex
from producers.feed_registry import get_feed
from producers.generators.registry import all_generators
from sharing_protocols.decision import ProtocolRegister
from sharing_protocols.envelope import EventEnvelope
from sharing_protocols.protocol import parse_protocol
from sharing_protocols.topics import partner_topic
from stream_processors.batch import BatchResult, RawMessage, fingerprint, memo_for, process
from tests.support import loader_reference
from tests.support.feeds import eastbourne_postcodes, generated, publish, write
from tests.support.open_data import EASTBOURNE_STREET, SHARED_DATA

AT = datetime(2026, 11, 22, 9, tzinfo=UTC)
PREFIX = "hub"
DISTRICTS = ("E07000061", "E07000063", "E07000062")


def _squares(level: str, step: int, first: int) -> AreaIndex:
    """Square areas of `step` metres over East Sussex, codes numbered from `first`."""
    codes, shapes = [], []
    for i, x in enumerate(range(530_000, 580_000, step)):
        for j, y in enumerate(range(90_000, 130_000, step)):
            codes.append(f"E0{first + i * 100 + j:07d}")
            shapes.append(box(x, y, x + step, y + step))
    return AreaIndex(level, "test", codes, shapes)


def _geocoder(with_lsoas: bool) -> Geocoder:
    wards = _squares("ward", 2_000, 5_000_000)
    rollups = {
        str(code): {
            "lad": DISTRICTS[n % 3],
            **({"csp": "E22000295", "county": "E10000011", "pfa": "E23000009"} if n % 4 else {}),
        }
        for n, code in enumerate(wards.codes)
    }
    units = {p.postcode.replace(" ", ""): (float(p.easting), float(p.northing), 10) for p in eastbourne_postcodes()}
    return Geocoder(
        wards, _squares("lsoa", 700, 1_000_000) if with_lsoas else None, rollups, PostcodeIndex.build(units)
    )


def _register() -> ProtocolRegister:
    directory = packaged_protocols_dir()
    return ProtocolRegister(parse_protocol(p.read_text(encoding="utf-8"), p.name) for p in directory.glob("*.yaml"))


@pytest.fixture(scope="module")
def envelopes(tmp_path_factory: pytest.TempPathFactory) -> list[EventEnvelope]:
    tmp: Path = tmp_path_factory.mktemp("feeds")
    found: list[EventEnvelope] = []
    for dataset, generator in all_generators().items():
        path = write(generator, tmp / f"{dataset}.csv", generated(generator, rows=150))
        found += publish(get_feed(dataset), path)[0]
    found += publish(get_feed("police-uk-street"), SHARED_DATA / EASTBOURNE_STREET)[0][:400]
    return found


def _messages(envelopes: list[EventEnvelope], seed: int) -> list[RawMessage]:
    rng = random.Random(seed)
    out: list[RawMessage] = []
    for envelope in rng.sample(envelopes, len(envelopes)):
        topic = partner_topic(PREFIX, envelope.dataset, envelope.partner)
        key, value = str(envelope.event_id).encode(), envelope.to_bytes()
        roll = rng.random()
        if roll < 0.03:  # a tombstone, before or after the event
            out.append(RawMessage(topic, 0, len(out), key, None))
        elif roll < 0.05:
            value = value.replace(b'"schema_version":1', b'"schema_version":9')
        elif roll < 0.07:
            value = value[: len(value) // 2]
        elif roll < 0.08:
            topic = partner_topic(PREFIX, envelope.dataset, "someone-else")
        elif roll < 0.09:
            topic = "elsewhere"
        out.append(RawMessage(topic, 0, len(out), key, value))
        if rng.random() < 0.05:  # published again later in the batch
            out.append(RawMessage(topic, 0, len(out), key, value))
    return out


def _comparable(result: BatchResult) -> BatchResult:
    """The result without the record keys (drawn at random for every row), its JSON columns as values, and without
    its COPY text (which the reference path does not make)."""
    return dataclasses.replace(
        result,
        events=[e._replace(record_key=0, attributes_json=json.loads(e.attributes_json)) for e in result.events],
        text=None,
    )


@pytest.mark.parametrize("with_lsoas", [False, True])
def test_the_batch_path_gives_what_the_per_event_path_gave(envelopes: list[EventEnvelope], with_lsoas: bool) -> None:
    geocoder = _geocoder(with_lsoas)
    register = _register()
    memo = None
    for seed in range(3):  # several batches through one memo, as the loader keeps it
        messages = _messages(envelopes, seed)
        memo = memo_for(register, AT, memo)
        new = process(messages, geocoder, PREFIX, register, AT, memo)
        old = loader_reference.process(messages, geocoder, PREFIX, register, AT)
        assert len(new.events) > 100 and len(new.dead_letters) > 10 and new.retractions and new.withdrawn
        assert {d.outcome for d in new.decisions} == {"released", "withheld"}
        assert _comparable(new) == _comparable(old)
        assert len({e.record_key for e in new.events}) > 1
        _assert_copy_text_of(new)


def _assert_copy_text_of(result: BatchResult) -> None:
    """The result's COPY text is a line per row and decision, in their order: each line's first field is its event id
    (as psycopg writes a UUID: 32 hex digits), a row's record key and batch position, a decision's outcome and its
    position in the batch."""
    assert result.text is not None
    lines = [line.split(b"\t") for line in result.text.events.splitlines()]
    assert [(f[0], f[19], f[-1]) for f in lines] == [
        (e.event_id.hex.encode(), str(e.record_key).encode(), str(e.batch_seq).encode()) for e in result.events
    ]
    audits = [line.split(b"\t") for line in result.text.decisions.splitlines()]
    assert [(f[0], f[5], f[-1]) for f in audits] == [
        (d.event_id.hex.encode(), d.outcome.encode(), str(i).encode()) for i, d in enumerate(result.decisions)
    ]
    assert (result.text.rows, result.text.audits) == (len(result.events), len(result.decisions))


def test_the_fingerprint_is_the_digest_of_pydantics_dump(envelopes: list[EventEnvelope]) -> None:
    for envelope in envelopes:
        content = envelope.model_dump(mode="json", exclude={"event_id"})
        assert fingerprint(envelope) == hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def test_the_fingerprint_equals_pydantics_dump_for_every_location_kind_and_awkward_values(
    envelopes: list[EventEnvelope],
) -> None:
    base = json.loads(envelopes[0].to_bytes())
    locations: list[dict[str, object] | None] = [
        None,
        {"kind": "wgs84", "lon": 0.28, "lat": 50.768},
        {"kind": "wgs84", "lon": -1, "lat": 51},
        {"kind": "bng", "easting": 561_000.5, "northing": 98_765},
        {"kind": "postcode", "postcode": 'BN21 4"\\x'},
        {"kind": "area", "level": "lsoa", "code": "E01020000", "vintage": "lsoa-2021"},
        {"kind": "area", "level": "ward", "code": "E05000001"},
    ]
    attributes: list[dict[str, object]] = [
        {},
        {"b": 'quote " backslash \\ tab \t nl \n', "a": "caf\u00e9 \u2603 \U0001f600", "z": None},
        {"n": 2**70, "f": 1e-7, "g": 1.5e300, "t": True, "u": False, "i": -3, "zero": 0.0},
        {"\u00e9-key": "x", 'key"q': "y"},
    ]
    for location in locations:
        for attrs in attributes:
            for occurred in (
                {"start": "2024-02-01", "end": "2024-02-29", "precision": "month"},
                {"start": "2024-02-03", "end": "2024-02-03", "precision": "day"},
            ):
                envelope = EventEnvelope.model_validate(
                    {**base, "location": location, "attributes": attrs, "occurred": occurred}
                )
                content = envelope.model_dump(mode="json", exclude={"event_id"})
                expected = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
                assert fingerprint(envelope) == expected
