"""warehouse.sink.withdrawals: each stored version of a withdrawn event, and where the message that withdraws it
stands, so that an older one never removes a stored later version."""

from __future__ import annotations

import uuid
from datetime import date

from warehouse.sink import EventClaim, EventKey, RetractionRow, withdrawals

TOPIC = "hub.events.police-uk-street.sussex-police"
JANUARY, MARCH = date(2019, 1, 1), date(2019, 3, 1)


def test_the_batch_s_last_message_about_an_event_places_its_withdrawal() -> None:
    key = EventKey(uuid.uuid4(), "police-uk-street", "sussex-police")
    claims = [EventClaim(*key, TOPIC, 1, 7), EventClaim(*key, TOPIC, 1, 12)]
    tombstone = RetractionRow(*key, TOPIC, 1, 15, final=True)
    stored = {key.event_id: [JANUARY]}
    assert withdrawals([key], claims, [tombstone], stored) == [(key.event_id, JANUARY, *key[1:], TOPIC, 1, 15)]
    assert withdrawals([key], claims, [], stored) == [(key.event_id, JANUARY, *key[1:], TOPIC, 1, 12)]


def test_an_event_no_message_places_is_withdrawn_wherever_it_came_from() -> None:
    key = EventKey(uuid.uuid4(), "police-uk-street", "sussex-police")
    other = EventClaim(uuid.uuid4(), "police-uk-street", "sussex-police", TOPIC, 0, 3)
    assert withdrawals([key], [other], [], {key.event_id: [MARCH]}) == [(key.event_id, MARCH, *key[1:], "", 0, 0)]


def test_every_stored_version_is_withdrawn_and_an_event_stored_nowhere_needs_no_delete() -> None:
    stored, unstored = (EventKey(uuid.uuid4(), "police-uk-street", "sussex-police") for _ in range(2))
    claims = [EventClaim(*stored, TOPIC, 0, 4), EventClaim(*unstored, TOPIC, 0, 5)]
    assert withdrawals([stored, unstored], claims, [], {stored.event_id: [JANUARY, MARCH]}) == [
        (stored.event_id, JANUARY, *stored[1:], TOPIC, 0, 4),
        (stored.event_id, MARCH, *stored[1:], TOPIC, 0, 4),
    ]
