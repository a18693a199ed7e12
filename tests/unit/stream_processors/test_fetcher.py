"""The batch fetcher's offsets to commit: one past the last record of each partition of a batch."""

from __future__ import annotations

from dataclasses import dataclass

from faust.types import TP

from stream_processors.fetcher import next_offsets


@dataclass(frozen=True)
class _Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None = None
    value: bytes | None = None
    headers: tuple[tuple[str, bytes], ...] = ()


def test_each_partition_commits_one_past_its_last_record() -> None:
    batch = [_Record("a", 0, 7), _Record("a", 1, 3), _Record("a", 0, 8), _Record("b", 0, 41), _Record("a", 1, 4)]
    assert next_offsets(batch) == {TP("a", 0): 9, TP("a", 1): 5, TP("b", 0): 42}


def test_a_partition_absent_from_the_batch_is_not_committed() -> None:
    assert next_offsets([_Record("a", 2, 0)]) == {TP("a", 2): 1}
    assert next_offsets([]) == {}


def test_records_out_of_order_still_commit_past_the_highest() -> None:
    # A batch never holds a partition's records out of order; if it did, committing below the highest would
    # read records again, never skip them.
    assert next_offsets([_Record("a", 0, 12), _Record("a", 0, 10)]) == {TP("a", 0): 13}
