"""The sink's refusals: which claims and tombstones of a batch touch an event id another dataset or partner owns."""

from __future__ import annotations

import uuid

from warehouse.sink import EventClaim, EventKey, RetractionRow, refusals

E1, E2 = uuid.UUID(int=1), uuid.UUID(int=2)
DATASET = "police-uk-street"


def _claim(event_id: uuid.UUID, partner: str, offset: int, dataset: str = DATASET) -> EventClaim:
    return EventClaim(event_id, dataset, partner, f"hub.events.{dataset}.{partner}", 0, offset)


def _tombstone(event_id: uuid.UUID, partner: str, offset: int) -> RetractionRow:
    return RetractionRow(event_id, DATASET, partner, f"hub.events.{DATASET}.{partner}", 0, offset, final=True)


def test_a_claim_on_an_id_stored_for_another_partner_is_refused_as_event_id_conflict() -> None:
    stored = {E1: EventKey(E1, DATASET, "a")}
    result = refusals([_claim(E1, "b", 7), _claim(E1, "a", 8), _claim(E2, "b", 9)], [], stored)
    assert result.refused == {EventKey(E1, DATASET, "b")}
    [letter] = result.dead_letters
    assert (letter.source_topic, letter.source_offset) == (f"hub.events.{DATASET}.b", 7)
    assert (letter.event_key, letter.dataset, letter.partner) == (str(E1), DATASET, "b")
    assert letter.reason == (
        "event_id_conflict: the event id belongs to partner 'a' (police-uk-street); "
        "partner 'b' (police-uk-street) may not replace or withdraw it"
    )


def test_the_stored_owner_wins_even_when_another_partner_claims_the_id_first_in_the_batch() -> None:
    stored = {E1: EventKey(E1, DATASET, "a")}
    result = refusals([_claim(E1, "b", 1), _claim(E1, "a", 2)], [], stored)
    assert [letter.source_offset for letter in result.dead_letters] == [1]


def test_a_new_id_belongs_to_its_first_claim_in_the_batch_and_every_other_message_of_the_intruder_is_refused() -> None:
    result = refusals([_claim(E1, "a", 1), _claim(E1, "b", 2), _claim(E1, "b", 3)], [], {})
    assert result.refused == {EventKey(E1, DATASET, "b")}
    assert [letter.source_offset for letter in result.dead_letters] == [2, 3]


def test_the_same_partner_claiming_an_id_for_another_dataset_is_refused_too() -> None:
    stored = {E1: EventKey(E1, DATASET, "a")}
    result = refusals([_claim(E1, "a", 1, dataset="police-records")], [], stored)
    assert result.refused == {EventKey(E1, "police-records", "a")}


def test_a_tombstone_from_anyone_but_the_publisher_is_refused_as_retraction_not_publisher() -> None:
    stored = {E1: EventKey(E1, DATASET, "a")}
    result = refusals([], [_tombstone(E1, "b", 4), _tombstone(E1, "a", 5)], stored)
    assert result.refused == {EventKey(E1, DATASET, "b")}  # nothing of b's for this id is retracted or withdrawn
    [letter] = result.dead_letters
    assert letter.reason == (
        "retraction_not_publisher: partner 'b' (police-uk-street) did not publish the event; "
        "partner 'a' (police-uk-street) did"
    )
    assert (letter.partner, letter.source_offset) == ("b", 4)


def test_a_tombstone_for_an_event_claimed_earlier_in_the_batch_by_another_partner_is_refused() -> None:
    result = refusals([_claim(E1, "a", 1)], [_tombstone(E1, "b", 2)], {})
    assert result.refused == {EventKey(E1, DATASET, "b")}
    assert [letter.reason.split(":")[0] for letter in result.dead_letters] == ["retraction_not_publisher"]


def test_a_tombstone_for_an_id_nobody_has_used_is_not_refused() -> None:
    result = refusals([], [_tombstone(E2, "b", 2)], {})
    assert (result.refused, result.dead_letters) == (frozenset(), [])
