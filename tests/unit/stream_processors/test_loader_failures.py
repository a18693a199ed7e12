"""The loader's answer to a batch the warehouse refuses: retried once, then, for a row-level refusal, loaded in halves
down to the messages that fail alone (dead-lettered with kind and SQLSTATE); bounded; anything else propagates.

The sink is a stand-in (pure logic): it refuses every write that holds one of the `poison` offsets, as a trigger
raising for one row would; tests/faults/test_poison_message.py does the same on the real database."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import psycopg
import pytest

from stream_processors.batch import RawMessage
from stream_processors.loader import Loader, failure_reason, isolation_attempts, row_level
from tests.unit.stream_processors.test_batch import PREFIX, REGISTER, TOPIC, WARDS, _message
from warehouse.sink import (
    CopyText,
    DeadLetterRow,
    DecisionRow,
    EventClaim,
    EventKey,
    EventRow,
    RetractionRow,
    WarehouseSink,
)


class RefusingSink(WarehouseSink):
    """Refuses (raising `error`) each write holding a decision or event of a poisoned offset; records the rest."""

    def __init__(self, poison: set[int], error: type[Exception] = psycopg.errors.RaiseException) -> None:
        super().__init__("postgresql://unused")
        self.poison, self.error = poison, error
        self.writes = 0
        self.loaded: list[int] = []
        self.dead: list[DeadLetterRow] = []

    def write(
        self,
        events: Sequence[EventRow],
        dead_letters: Sequence[DeadLetterRow],
        decisions: Sequence[DecisionRow] = (),
        withdrawn: Sequence[EventKey] = (),
        retractions: Sequence[RetractionRow] = (),
        claims: Sequence[EventClaim] = (),
        text: CopyText | None = None,
    ) -> list[DeadLetterRow]:
        self.writes += 1
        offsets = [e.source_offset for e in events]
        if self.poison & set(offsets):
            raise self.error("a value from the payload: SECRET-42")
        self.loaded.extend(offsets)
        self.dead.extend(dead_letters)
        return []


def _batch(n: int) -> list[RawMessage]:
    return [_message(offset, None) for offset in range(n)]


def _loader(sink: WarehouseSink) -> Loader:
    return Loader(PREFIX, WARDS, sink, 0.1, REGISTER)


def test_a_message_the_warehouse_refuses_alone_is_dead_lettered_and_the_rest_of_its_batch_loads(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink = RefusingSink({37})
    with caplog.at_level(logging.WARNING):
        result = _loader(sink).handle(_batch(100))
    assert sorted(sink.loaded) == [n for n in range(100) if n != 37]
    assert sink.loaded == sorted(sink.loaded)  # the earlier part of the batch is written first
    [letter] = result.dead_letters
    assert (letter.source_topic, letter.source_offset, letter.dataset, letter.partner) == (
        TOPIC,
        37,
        "police-uk-street",
        "p",
    )
    assert letter.reason == "load_failed: RaiseException sqlstate P0001"
    assert sink.dead == [letter]  # recorded in the warehouse too
    assert "RaiseException" in caplog.text and "SECRET-42" not in caplog.text  # the kind, never the error's text
    assert sink.writes <= 2 + isolation_attempts(100) + 1


def test_two_poisoned_messages_side_by_side_are_both_found() -> None:
    sink = RefusingSink({89, 90})
    result = _loader(sink).handle(_batch(128))
    assert sorted(letter.source_offset for letter in result.dead_letters) == [89, 90]
    assert len(sink.loaded) == 126


def test_the_search_is_bounded_and_then_the_batch_fails_uncommitted() -> None:
    sink = RefusingSink(set(range(0, 64, 2)))  # every other message: far more than the attempts allow
    with pytest.raises(psycopg.errors.RaiseException):
        _loader(sink).handle(_batch(64))
    assert sink.dead == []
    assert sink.writes <= 2 + isolation_attempts(64)


def test_a_batch_whose_every_message_fails_is_not_dead_lettered() -> None:
    sink = RefusingSink(set(range(4)))
    with pytest.raises(psycopg.errors.RaiseException):
        _loader(sink).handle(_batch(4))
    assert (sink.loaded, sink.dead) == ([], [])


def test_a_failure_that_is_not_row_level_is_retried_once_and_then_propagates() -> None:
    sink = RefusingSink({5}, psycopg.errors.UndefinedTable)  # 42P01: the schema, not a row
    with pytest.raises(psycopg.errors.UndefinedTable):
        _loader(sink).handle(_batch(20))
    assert (sink.writes, sink.loaded, sink.dead) == (2, [], [])


def test_a_single_message_batch_that_fails_is_never_dead_lettered() -> None:
    sink = RefusingSink({0})
    with pytest.raises(psycopg.errors.RaiseException):
        _loader(sink).handle(_batch(1))
    assert sink.dead == []


def test_which_failures_are_row_level() -> None:
    assert row_level(psycopg.errors.RaiseException("x"))  # P0001
    assert row_level(psycopg.errors.UniqueViolation("x"))  # 23505
    assert row_level(psycopg.errors.InvalidTextRepresentation("x"))  # 22P02
    assert not row_level(psycopg.errors.UndefinedTable("x"))  # 42P01
    assert not row_level(psycopg.OperationalError("x"))
    assert not row_level(ValueError("x"))
    assert (
        failure_reason(psycopg.errors.UniqueViolation("secret value")) == "load_failed: UniqueViolation sqlstate 23505"
    )
