"""Decoding, geocoding and dead-lettering of a batch, on two synthetic square wards."""

from __future__ import annotations

import gc
import json
import math
import uuid
import weakref
from datetime import UTC, date, datetime

from convertbng.cutil import convert_bng
from shapely.geometry import box

from geography.geocoder import AreaIndex, Geocoder
from sharing_protocols.decision import ProtocolRegister
from sharing_protocols.envelope import BngPoint, EventEnvelope, OccurrencePeriod, Wgs84Point
from sharing_protocols.protocol import parse_protocol
from sharing_protocols.topics import partner_topic
from stream_processors.batch import RawMessage, collection_paused, freeze_start_up_heap, process
from warehouse.sink import EventKey

PROTOCOL = """
id: test-points
version: 1
title: Test protocol releasing points and wards
status: active
valid_from: 2019-01-01
review_due: 2030-01-01
dpia_reference: TEST-1
data_owners: [{id: p, name: Test partner, datasets: [police-uk-street]}]
recipients: [{id: csp-a, name: CSP A, kind: csp}]
purposes: [Testing]
legal_gateways: [{ref: cda-1998-s115}]
datasets: [police-uk-street]
retention: {months: 12}
signatories: [{role: SIRO, organisation: p}]
clauses:
  - id: points
    recipients: [csp-a]
    datasets: [police-uk-street]
    fields: [category, period, location]
    categories: [drugs, burglary]
    spatial_precision: point
    temporal_precision: month
    output: record_level
"""
REGISTER = ProtocolRegister([parse_protocol(PROTOCOL, "test.yaml")])
AT = datetime(2026, 11, 22, tzinfo=UTC)
PREFIX = "hub"
TOPIC = partner_topic(PREFIX, "police-uk-street", "p")
# Two wards sharing the edge x = 500000; listed out of code order on purpose.
WARDS = Geocoder(
    AreaIndex(
        "ward",
        "test",
        ["E05000002", "E05000001"],
        [box(500_000, 100_000, 501_000, 101_000), box(499_000, 100_000, 500_000, 101_000)],
    )
)


def _message(offset: int, location: BngPoint | Wgs84Point | None, *, on: str = TOPIC, **changes: object) -> RawMessage:
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
    return RawMessage(on, 0, offset, str(payload["event_id"]).encode(), json.dumps(payload).encode())


def test_points_go_to_their_ward_and_a_shared_edge_goes_to_the_smaller_code() -> None:
    messages = [
        _message(0, BngPoint(easting=500_500, northing=100_500)),
        _message(1, BngPoint(easting=499_500, northing=100_500)),
        _message(2, BngPoint(easting=500_000, northing=100_500)),
        _message(3, BngPoint(easting=600_000, northing=100_500)),
        _message(4, None),
    ]
    result = process(messages, WARDS, PREFIX, REGISTER, AT)
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
    result = process(
        [_message(i, Wgs84Point(lon=lon, lat=lat)) for i, (lon, lat) in enumerate(grid)], WARDS, PREFIX, REGISTER, AT
    )
    eastings, northings = convert_bng([p[0] for p in grid], [p[1] for p in grid])
    for row, easting, northing in zip(result.events, eastings, northings, strict=True):
        assert math.hypot((row.x or 0) - easting, (row.y or 0) - northing) < 5


def test_each_malformed_message_becomes_one_dead_letter_with_its_reason() -> None:
    good = _message(0, None)
    messages = [
        RawMessage(TOPIC, 0, 1, b"k", b"{not json"),
        RawMessage(TOPIC, 0, 2, b"k", None),
        RawMessage(TOPIC, 0, 7, good.key, b""),
        _message(3, None, schema_version=99),
        _message(4, None, dataset="unknown-feed"),
        RawMessage(TOPIC, 0, 5, b"other-key", good.value),
        RawMessage(partner_topic(PREFIX, "police-records", "p"), 0, 6, good.key, good.value),
        RawMessage("hub.events.police-uk-street", 0, 8, good.key, good.value),  # no partner: not a partner topic
        RawMessage("other.events.police-uk-street.p", 0, 9, good.key, good.value),  # another deployment's
        good,
    ]
    result = process(messages, WARDS, PREFIX, REGISTER, AT)
    assert len(result.events) == 1
    assert [(d.source_offset, d.reason) for d in result.dead_letters] == [
        (1, "payload is not valid UTF-8 JSON"),
        (2, "null payload without an event id key"),
        (7, "empty payload"),
        (3, "unsupported schema version 99 for dataset 'police-uk-street'"),
        (4, "unknown dataset 'unknown-feed'"),
        (5, "message key is not the event id"),
        (6, "dataset 'police-uk-street' published on topic 'hub.events.police-records.p'"),
        (8, "not a partner topic of this hub: 'hub.events.police-uk-street'"),
        (9, "not a partner topic of this hub: 'other.events.police-uk-street.p'"),
    ]
    # A dead letter is put down to the dataset and partner of its topic (nobody's when it is not a partner topic).
    assert {d.source_offset: (d.dataset, d.partner) for d in result.dead_letters} == {
        **{offset: ("police-uk-street", "p") for offset in (1, 2, 7, 3, 4, 5)},
        6: ("police-records", "p"),
        8: (None, None),
        9: (None, None),
    }


def test_a_tombstone_retracts_its_event_unless_a_later_message_restates_it() -> None:
    event = _message(0, BngPoint(easting=500_500, northing=100_500))
    tombstone = RawMessage(TOPIC, 0, 1, event.key, None)
    restated = RawMessage(TOPIC, 0, 2, event.key, event.value)
    retracted = process([event, tombstone], WARDS, PREFIX, REGISTER, AT)
    assert retracted.events == [] and retracted.dead_letters == []
    assert [(r.source_offset, r.final, r.dataset, r.partner) for r in retracted.retractions] == [
        (1, True, "police-uk-street", "p")
    ]
    assert retracted.withdrawn == [EventKey(uuid.UUID((event.key or b"").decode()), "police-uk-street", "p")]
    again = process([event, tombstone, restated], WARDS, PREFIX, REGISTER, AT)
    assert again.events[-1].source_offset == 2 and again.withdrawn == []  # the sink keeps the batch's last version
    assert [r.final for r in again.retractions] == [False]


def test_an_event_no_protocol_covers_is_withheld_with_one_decision_and_no_row() -> None:
    stranger = partner_topic(PREFIX, "police-uk-street", "stranger")
    messages = [
        _message(0, BngPoint(easting=500_500, northing=100_500)),
        _message(1, None, on=stranger, partner="stranger"),
    ]
    result = process(messages, WARDS, PREFIX, REGISTER, AT)
    assert [r.source_offset for r in result.events] == [0]
    assert [(d.outcome, d.code) for d in result.decisions] == [("released", None), ("withheld", "no_grant")]
    assert result.decisions[0].protocols == ("test-points@1#points",)
    assert result.withheld == 1


def test_released_rows_carry_only_the_allowed_fields() -> None:
    payload = json.loads(_message(0, None).value or b"{}")
    payload["attributes"] = {"crime_id": "a" * 64, "location_description": "On or near a street"}
    message = RawMessage(TOPIC, 0, 0, str(payload["event_id"]).encode(), json.dumps(payload).encode())
    [row] = process([message], WARDS, PREFIX, REGISTER, AT).events
    assert json.loads(row.attributes_json) == {}
    assert row.category == "drugs" and row.period_label == "2019-01"


def test_a_later_withheld_version_in_the_same_batch_withdraws_the_event() -> None:
    first = _message(0, BngPoint(easting=500_500, northing=100_500))
    payload = json.loads(first.value or b"{}")
    payload["category"] = "shoplifting"  # the corrected category is one the protocol does not share
    second = RawMessage(TOPIC, 0, 1, first.key, json.dumps(payload).encode())
    result = process([first, second], WARDS, PREFIX, REGISTER, AT)
    assert result.events == []
    assert [d.code for d in result.decisions] == [None, "category_not_covered"]
    assert result.withdrawn == [EventKey(uuid.UUID(payload["event_id"]), "police-uk-street", "p")]


def test_dead_letter_reasons_never_quote_the_payload() -> None:
    planted = "Jane Doe 07700 900123 jane@example.org"
    payload = json.loads(_message(0, None).value or b"{}")
    bad = [
        {**payload, "location": {"kind": planted}},
        {**payload, "event_id": planted},
        {**payload, planted: 1},
        {**payload, "dataset": planted},
        {**payload, "attributes": {planted: "x"}, "partner": planted},
    ]
    messages = [RawMessage(TOPIC, 0, i, planted.encode(), json.dumps(p).encode()) for i, p in enumerate(bad)]
    messages.append(RawMessage(TOPIC, 0, 9, b"k", json.dumps({**payload, "category": "a\u0000b"}).encode()))
    result = process(messages, WARDS, PREFIX, REGISTER, AT)
    assert len(result.dead_letters) == len(messages)
    for letter in result.dead_letters:
        assert "Jane" not in letter.reason and "07700" not in letter.reason and "@" not in letter.reason
        assert letter.event_key is None  # a key that is not an event id is not kept
    assert result.dead_letters[-1].reason.startswith("payload contains a NUL character")


OTHER_TOPIC = partner_topic(PREFIX, "police-uk-street", "q")  # partner q's topic: q has no grant in REGISTER


def test_an_envelope_naming_another_partner_than_the_topics_is_dead_lettered_as_partner_mismatch() -> None:
    honest = _message(0, BngPoint(easting=500_500, northing=100_500))
    forged = _message(1, BngPoint(easting=500_500, northing=100_500), on=OTHER_TOPIC)  # q's topic, says partner p
    result = process([honest, forged], WARDS, PREFIX, REGISTER, AT)
    assert [r.source_offset for r in result.events] == [0]
    assert [(d.partner, d.outcome) for d in result.decisions] == [("p", "released")]  # none for the forged one
    [letter] = result.dead_letters
    assert letter.reason == "partner_mismatch: the envelope names partner 'p' on a topic of partner 'q'"
    assert (letter.source_topic, letter.dataset, letter.partner) == (OTHER_TOPIC, "police-uk-street", "q")
    assert letter.event_key == (forged.key or b"").decode()
    assert len(result.claims) == 1 and result.claims[0].source_offset == 0


def test_a_tombstone_from_another_partner_does_not_withdraw_the_event_in_the_batch() -> None:
    event = _message(0, BngPoint(easting=500_500, northing=100_500))
    event_id = uuid.UUID((event.key or b"").decode())
    foreign = RawMessage(OTHER_TOPIC, 0, 1, event.key, None)
    result = process([event, foreign], WARDS, PREFIX, REGISTER, AT)
    assert [r.event_id for r in result.events] == [event_id]  # still loaded: the tombstone is not the publisher's
    assert EventKey(event_id, "police-uk-street", "p") not in result.withdrawn
    assert [(r.partner, r.final) for r in result.retractions] == [("q", True)]
    own = RawMessage(TOPIC, 0, 2, event.key, None)
    retracted = process([event, foreign, own], WARDS, PREFIX, REGISTER, AT)
    assert retracted.events == []  # the publisher's own tombstone does withdraw it
    assert EventKey(event_id, "police-uk-street", "p") in retracted.withdrawn


def test_another_partners_event_with_the_same_id_neither_replaces_nor_withdraws_it() -> None:
    event = _message(0, BngPoint(easting=500_500, northing=100_500))
    payload = {**json.loads(event.value or b"{}"), "partner": "q", "category": "burglary"}
    clash = RawMessage(OTHER_TOPIC, 0, 1, event.key, json.dumps(payload).encode())  # q's, withheld (no grant)
    result = process([event, clash], WARDS, PREFIX, REGISTER, AT)
    event_id = uuid.UUID(payload["event_id"])
    assert [(r.event_id, r.partner, r.category) for r in result.events] == [(event_id, "p", "drugs")]
    assert result.withdrawn == [EventKey(event_id, "police-uk-street", "q")]  # q's own key only: never p's row
    assert [(c.partner, c.source_offset) for c in result.claims] == [("p", 0), ("q", 1)]
    assert [(d.partner, d.outcome) for d in result.decisions] == [("p", "released"), ("q", "withheld")]


def test_the_collector_is_paused_during_a_batch_and_restored_after_it_even_when_the_batch_fails() -> None:
    assert gc.isenabled()
    with collection_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    try:
        with collection_paused():
            raise RuntimeError("a failing stage")
    except RuntimeError:
        pass
    assert gc.isenabled()
    process([_message(0, None), RawMessage(TOPIC, 0, 1, b"k", b"{")], WARDS, PREFIX, REGISTER, AT)
    assert gc.isenabled()


def test_a_collector_already_off_stays_off_after_a_batch() -> None:
    gc.disable()
    try:
        process([_message(0, None)], WARDS, PREFIX, REGISTER, AT)
        assert not gc.isenabled()
    finally:
        gc.enable()


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_freezing_the_start_up_heap_collects_its_garbage_first_and_freezes_the_rest() -> None:
    kept, lost = _Node(), _Node()
    lost.other, kept.other = _Node(), None
    assert lost.other is not None
    lost.other.other = lost  # a reference cycle no one holds once `lost` goes
    gone = weakref.ref(lost)
    del lost
    try:
        freeze_start_up_heap()
        assert gone() is None  # collected, not frozen for the life of the process
        assert gc.get_freeze_count() > 0
        assert all(kept is not o for o in gc.get_objects())  # out of the collector's generations
    finally:
        gc.unfreeze()


def test_every_released_row_has_its_month_in_its_decision_at_any_precision_and_across_a_month_end() -> None:
    """The sink finds a stored version in the partition of a month its decisions name (warehouse/sink.py): an event's
    row and its decision must carry the same month, for a month, a day and a period running over a month's end,
    under a clause releasing the month only and one releasing the day."""
    periods = [
        OccurrencePeriod.month(2019, 1),
        OccurrencePeriod(start=date(2019, 1, 31), end=date(2019, 1, 31), precision="day"),
        OccurrencePeriod(start=date(2019, 1, 31), end=date(2019, 2, 1), precision="day"),
        OccurrencePeriod(start=date(2018, 12, 31), end=date(2019, 1, 1), precision="day"),
    ]
    daily = ProtocolRegister(
        [parse_protocol(PROTOCOL.replace("temporal_precision: month", "temporal_precision: day"), "d.yaml")]
    )
    for register in (REGISTER, daily):
        messages = [
            _message(i, BngPoint(easting=500_500, northing=100_500), occurred=json.loads(p.model_dump_json()))
            for i, p in enumerate(periods)
        ]
        result = process(messages, WARDS, PREFIX, register, AT)
        assert len(result.events) == len(periods)
        decided = {(d.event_id, d.period_month) for d in result.decisions}
        assert {(r.event_id, r.period_month) for r in result.events} <= decided
        assert [r.period_month for r in result.events] == [date(2019, 1, 1)] * 3 + [date(2018, 12, 1)]
