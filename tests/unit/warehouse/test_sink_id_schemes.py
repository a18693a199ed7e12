"""The sink's id-scheme refusals (pure): a feed's first scheme, and the claims and tombstones under another."""

from __future__ import annotations

import uuid

from sharing_protocols.id_scheme import PUBLIC, scheme_for
from warehouse.sink import EventClaim, EventKey, RetractionRow, first_schemes, scheme_refusals

DATASET = "police-uk-street"
KEYED, OTHER = scheme_for(b"k" * 32), scheme_for(b"o" * 32)


def _claim(n: int, scheme: str | None, partner: str = "a", dataset: str = DATASET) -> EventClaim:
    return EventClaim(uuid.UUID(int=n), dataset, partner, f"hub.events.{dataset}.{partner}", 0, n, scheme=scheme)


def _tombstone(n: int, scheme: str | None, partner: str = "a") -> RetractionRow:
    topic = f"hub.events.{DATASET}.{partner}"
    return RetractionRow(uuid.UUID(int=n), DATASET, partner, topic, 0, n, final=True, scheme=scheme)


def test_each_feed_keeps_the_first_scheme_named_in_batch_order() -> None:
    messages = [_claim(1, None), _claim(2, KEYED), _claim(3, PUBLIC), _claim(4, OTHER, "b"), _claim(5, None, "c")]
    assert first_schemes(messages) == {(DATASET, "a"): KEYED, (DATASET, "b"): OTHER}


def test_claims_and_tombstones_under_another_scheme_than_the_feeds_are_refused_naming_both_schemes_only() -> None:
    kept = {(DATASET, "a"): KEYED}
    messages = [_claim(1, KEYED), _claim(2, PUBLIC), _claim(3, OTHER), _claim(4, None), _tombstone(5, PUBLIC)]
    result = scheme_refusals(messages, kept)
    assert result.refused == {EventKey(uuid.UUID(int=n), DATASET, "a") for n in (2, 3, 5)}
    assert [letter.source_offset for letter in result.dead_letters] == [2, 3, 5]
    assert result.dead_letters[0].reason == (
        f"id_scheme_conflict: partner 'a' ({DATASET}) publishes event ids under scheme {KEYED}; "
        "this message's id is under scheme public, so its record would load twice"
    )
    assert all(str(uuid.UUID(int=n)) not in letter.reason for n in (2, 3, 5) for letter in result.dead_letters)


def test_another_feeds_scheme_is_its_own_business() -> None:
    kept = {(DATASET, "a"): KEYED, ("other-dataset", "a"): PUBLIC}
    messages = [_claim(1, PUBLIC, "b"), _claim(2, PUBLIC, "a", "other-dataset"), _claim(3, KEYED)]
    assert scheme_refusals(messages, kept).dead_letters == []
