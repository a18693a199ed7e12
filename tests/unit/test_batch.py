"""Decoding, geocoding and dead-lettering of a batch, on two synthetic square wards."""

from __future__ import annotations

import json
import math
import uuid

from convertbng.cutil import convert_bng
from shapely.geometry import box

from sharing_protocols.envelope import BngPoint, EventEnvelope, OccurrencePeriod, Wgs84Point
from stream_processors.batch import RawMessage, process
from stream_processors.geocoding import WardIndex

TOPIC = "hub.events.police-uk-street"
TOPICS = {TOPIC: "police-uk-street"}
# Two wards sharing the edge x = 500000; listed out of code order on purpose.
WARDS = WardIndex(
    "test",
    ["E05000002", "E05000001"],
    [box(500_000, 100_000, 501_000, 101_000), box(499_000, 100_000, 500_000, 101_000)],
)


def _message(offset: int, location: BngPoint | Wgs84Point | None, **changes: object) -> RawMessage:
    envelope = EventEnvelope(
        event_id=uuid.uuid4(),
        dataset="police-uk-street",
        partner="p",
        schema_version=1,
        occurred=OccurrencePeriod.month(2019, 1),
        location=location,
        category="drugs",
    )
    payload = {**json.loads(envelope.to_bytes()), **changes}
    return RawMessage(TOPIC, 0, offset, str(payload["event_id"]).encode(), json.dumps(payload).encode())


def test_points_go_to_their_ward_and_a_shared_edge_goes_to_the_smaller_code() -> None:
    messages = [
        _message(0, BngPoint(easting=500_500, northing=100_500)),
        _message(1, BngPoint(easting=499_500, northing=100_500)),
        _message(2, BngPoint(easting=500_000, northing=100_500)),
        _message(3, BngPoint(easting=600_000, northing=100_500)),
        _message(4, None),
    ]
    result = process(messages, WARDS, TOPICS)
    assert [(r.ward_code, r.location_status) for r in result.events] == [
        ("E05000002", "located"),
        ("E05000001", "located"),
        ("E05000001", "located"),
        (None, "outside_coverage"),
        (None, "no_location"),
    ]
    assert result.dead_letters == []


def test_wgs84_points_are_projected_to_british_national_grid_within_five_metres_of_ostn15() -> None:
    # convertbng implements the Ordnance Survey's OSTN15 transform independently of pyproj.
    lons = [x / 10 for x in range(-15, 16, 3)]
    lats = [50.7 + y / 10 for y in range(0, 14, 3)]
    grid = [(lon, lat) for lon in lons for lat in lats]
    result = process([_message(i, Wgs84Point(lon=lon, lat=lat)) for i, (lon, lat) in enumerate(grid)], WARDS, TOPICS)
    eastings, northings = convert_bng([p[0] for p in grid], [p[1] for p in grid])
    for row, easting, northing in zip(result.events, eastings, northings, strict=True):
        assert math.hypot((row.x or 0) - easting, (row.y or 0) - northing) < 5


def test_each_malformed_message_becomes_one_dead_letter_with_its_reason() -> None:
    good = _message(0, None)
    messages = [
        RawMessage(TOPIC, 0, 1, b"k", b"{not json"),
        RawMessage(TOPIC, 0, 2, b"k", None),
        _message(3, None, schema_version=99),
        _message(4, None, dataset="unknown-feed"),
        RawMessage(TOPIC, 0, 5, b"other-key", good.value),
        RawMessage("hub.events.elsewhere", 0, 6, good.key, good.value),
        good,
    ]
    result = process(messages, WARDS, TOPICS)
    assert len(result.events) == 1
    assert [(d.source_offset, d.reason) for d in result.dead_letters] == [
        (1, "payload is not valid UTF-8 JSON"),
        (2, "empty payload"),
        (3, "unsupported schema version 99 for dataset 'police-uk-street'"),
        (4, "unknown dataset 'unknown-feed'"),
        (5, "message key is not the event id"),
        (6, "dataset 'police-uk-street' published on topic 'hub.events.elsewhere'"),
    ]
