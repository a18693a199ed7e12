"""The loader's id-scheme checks on a batch (pure): a header that is not a scheme, twice, or contradicted by the id."""

from __future__ import annotations

from datetime import UTC, datetime

from shapely.geometry import box

from geography.geocoder import AreaIndex, Geocoder
from sharing_protocols.decision import ProtocolRegister
from sharing_protocols.envelope import EventEnvelope, OccurrencePeriod, keyed_event_id, stable_event_id
from sharing_protocols.id_scheme import HEADER, PUBLIC, scheme_for
from sharing_protocols.topics import partner_topic
from stream_processors.batch import RawMessage, process

PREFIX, DATASET, PARTNER = "hub", "police-uk-street", "p"
TOPIC = partner_topic(PREFIX, DATASET, PARTNER)
KEY = b"k" * 32
KEYED = scheme_for(KEY)
AT = datetime(2026, 11, 22, tzinfo=UTC)
NOWHERE = Geocoder(AreaIndex("ward", "test", ["E05000001"], [box(0, 0, 1, 1)]))


def _event(source_key: str, keyed: bool) -> EventEnvelope:
    event_id = (
        keyed_event_id(KEY, DATASET, PARTNER, source_key) if keyed else stable_event_id(DATASET, PARTNER, source_key)
    )
    return EventEnvelope(
        event_id=event_id,
        dataset=DATASET,
        partner=PARTNER,
        schema_version=1,
        occurred=OccurrencePeriod.month(2019, 1),
        location=None,
        category="drugs",
    )


def _message(
    offset: int, envelope: EventEnvelope, *headers: tuple[str, bytes | None], tombstone: bool = False
) -> RawMessage:
    value = None if tombstone else envelope.to_bytes()
    return RawMessage(TOPIC, 0, offset, str(envelope.event_id).encode(), value, [("dataset", b"x"), *headers])


def _process(messages: list[RawMessage]) -> tuple[dict[int, str], dict[int, str | None]]:
    """The dead letters' reasons and the claims' and retractions' schemes, by offset."""
    result = process(messages, NOWHERE, PREFIX, ProtocolRegister([]), AT)
    letters = {letter.source_offset: letter.reason for letter in result.dead_letters}
    schemes = {c.source_offset: c.scheme for c in [*result.claims, *result.retractions]}
    assert not set(letters) & set(schemes)
    assert len(letters) + len(schemes) == len(messages)
    return letters, schemes


def test_each_message_carries_the_scheme_its_header_names_to_the_sink_and_without_a_header_none() -> None:
    letters, schemes = _process(
        [
            _message(0, _event("1", keyed=False), (HEADER, b"public")),
            _message(1, _event("2", keyed=True), (HEADER, KEYED.encode())),
            _message(2, _event("3", keyed=True)),
            _message(3, _event("4", keyed=True), (HEADER, KEYED.encode()), tombstone=True),
            _message(4, _event("5", keyed=False), tombstone=True),
        ]
    )
    assert letters == {}
    assert schemes == {0: PUBLIC, 1: KEYED, 2: None, 3: KEYED, 4: None}


def test_a_header_that_is_not_a_scheme_or_appears_twice_is_dead_lettered_as_id_scheme_invalid() -> None:
    event = _event("1", keyed=False)
    letters, schemes = _process(
        [
            _message(0, event, (HEADER, b"uuid5")),
            _message(1, event, (HEADER, None)),
            _message(2, event, (HEADER, b"public"), (HEADER, b"public")),
            _message(3, event, (HEADER, b"secret\xff"), tombstone=True),
            _message(4, event, (HEADER, b"public")),
        ]
    )
    assert schemes == {4: PUBLIC}
    assert letters == {
        0: f"id_scheme_invalid: the {HEADER} header is not a scheme (public or keyed:<16 hex>)",
        1: f"id_scheme_invalid: the {HEADER} header is not a scheme (public or keyed:<16 hex>)",
        2: f"id_scheme_invalid: the {HEADER} header appears more than once",
        3: f"id_scheme_invalid: the {HEADER} header is not a scheme (public or keyed:<16 hex>)",
    }


def test_a_scheme_contradicted_by_the_ids_uuid_version_is_dead_lettered_for_events_and_tombstones() -> None:
    public, keyed = _event("1", keyed=False), _event("1", keyed=True)
    letters, schemes = _process(
        [
            _message(0, keyed, (HEADER, b"public")),
            _message(1, public, (HEADER, KEYED.encode())),
            _message(2, keyed, (HEADER, b"public"), tombstone=True),
            _message(3, public, (HEADER, b"public")),
        ]
    )
    assert schemes == {3: PUBLIC}
    assert letters[0] == "id_scheme_invalid: the event id is a version 4 UUID, but scheme public makes version 5 ids"
    assert letters[1] == (
        f"id_scheme_invalid: the event id is a version 5 UUID, but scheme {KEYED} makes version 4 ids"
    )
    assert letters[2] == letters[0]
    assert all(str(e.event_id) not in reason for e in (public, keyed) for reason in letters.values())
