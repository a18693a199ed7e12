"""The worker's readiness and stall decisions."""

from __future__ import annotations

from stream_processors.worker_readiness import LAG_FRESH_SECONDS, STALL_SECONDS, stalled, worker_readiness


def test_ready_when_the_database_answers_and_a_fresh_lag_is_within_the_limit() -> None:
    answer = worker_readiness(True, 100, 5.0, max_lag=100)
    assert answer.ready and answer.failures == ()


def test_a_lag_over_the_limit_is_not_ready_and_says_by_how_much() -> None:
    answer = worker_readiness(True, 101, 5.0, max_lag=100)
    assert not answer.ready
    assert answer.failures == ("lag: 101 messages behind, over the 100 allowed",)


def test_a_lag_never_read_or_too_old_is_not_ready() -> None:
    assert worker_readiness(True, None, None, 100).failures[0].startswith("lag: not read")
    assert worker_readiness(True, 0, LAG_FRESH_SECONDS + 0.1, 100).failures[0].startswith("lag: not read")
    assert worker_readiness(True, 0, LAG_FRESH_SECONDS, 100).ready


def test_a_silent_database_is_not_ready_whatever_the_lag() -> None:
    answer = worker_readiness(False, 0, 1.0, 100)
    assert answer.failures == ("database: the warehouse does not answer as the worker's role",)
    assert len(worker_readiness(False, None, None, 100).failures) == 2


def test_stalled_needs_waiting_messages_and_no_batch_for_the_stall_time() -> None:
    assert stalled(1, STALL_SECONDS)
    assert not stalled(1, STALL_SECONDS - 1)
    assert not stalled(0, STALL_SECONDS * 10)  # idle, not stalled
    assert not stalled(None, STALL_SECONDS * 10)
