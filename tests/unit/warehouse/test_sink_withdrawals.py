"""warehouse.sink.withdrawals: where the message that withdraws an event stands, so that an older one never removes
a stored later version."""

from __future__ import annotations

import uuid

from warehouse.sink import EventClaim, EventKey, RetractionRow, withdrawals

TOPIC = "hub.events.police-uk-street.sussex-police"


def test_the_batch_s_last_message_about_an_event_places_its_withdrawal() -> None:
    key = EventKey(uuid.uuid4(), "police-uk-street", "sussex-police")
    claims = [EventClaim(*key, TOPIC, 1, 7), EventClaim(*key, TOPIC, 1, 12)]
    tombstone = RetractionRow(*key, TOPIC, 1, 15, final=True)
    assert withdrawals([key], claims, [tombstone]) == [(key, TOPIC, 1, 15)]
    assert withdrawals([key], claims, []) == [(key, TOPIC, 1, 12)]


def test_an_event_no_message_places_is_withdrawn_wherever_it_came_from() -> None:
    key = EventKey(uuid.uuid4(), "police-uk-street", "sussex-police")
    other = EventClaim(uuid.uuid4(), "police-uk-street", "sussex-police", TOPIC, 0, 3)
    assert withdrawals([key], [other], []) == [(key, "", 0, 0)]
