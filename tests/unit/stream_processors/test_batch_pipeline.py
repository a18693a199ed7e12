"""The loader's two stages on two threads (stream_processors.pipeline): the next batch is processed while the one
before it is written; writes keep submission order; a failing write lets nothing of a later batch reach the
warehouse, and the worker exits without committing.

The sink is a stand-in (pure logic: it records what each write holds, can hold a write until told, and fails the
writes it is told to); the real database's side is tests/integration/test_worker_scale_out.py and the fault suite.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import faust
import psycopg
import pytest

from stream_processors import loader as loader_module
from stream_processors.app import WarehouseBatches
from stream_processors.batch import BatchResult, RawMessage
from stream_processors.batch import process as process_batch
from stream_processors.decision_memo import WarehouseDecisions
from stream_processors.loader import Loader
from stream_processors.pipeline import BatchPipeline, EarlierBatchFailed
from tests.unit.stream_processors.test_batch import PREFIX, REGISTER, WARDS, _message
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

WAIT = 10.0  # seconds any step may take before the test fails (never reached when the code is right)
REPO = Path(__file__).resolve().parents[3]


class GatedSink(WarehouseSink):
    """Records each write (its offsets, its events' record keys, its thread), in order, and prints its offsets when
    `report`. A write holding an offset of `hold` first waits for `release`; a write holding an offset of `fail`
    raises `error` (each time, or the first `fail_times` times)."""

    def __init__(
        self,
        *,
        hold: Iterable[int] = (),
        fail: Iterable[int] = (),
        error: Callable[[str], Exception] = psycopg.errors.UndefinedTable,
        fail_times: int | None = None,
        report: bool = False,
    ) -> None:
        super().__init__("postgresql://unused")
        self.hold, self.fail, self.error, self.fail_times = set(hold), set(fail), error, fail_times
        self.report = report
        self.writing = threading.Event()  # a held write has begun
        self.release = threading.Event()
        self.attempts: list[list[int]] = []  # each write's offsets (events, dead letters), failed or not, in order
        self.committed: list[list[int]] = []
        self.record_keys: list[list[int]] = []
        self.threads: set[str] = set()

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
        rows = {e.source_offset for e in events}
        offsets = sorted([*rows, *(d.source_offset for d in dead_letters)])
        self.threads.add(threading.current_thread().name)
        if self.hold & rows:
            self.writing.set()
            assert self.release.wait(WAIT), "the held write was never released"
        self.attempts.append(offsets)
        if self.report:
            print("write", offsets, flush=True)
        self.record_keys.append([e.record_key for e in events])
        if self.fail & rows and (self.fail_times is None or self.fail_times > 0):
            if self.fail_times is not None:
                self.fail_times -= 1
            raise self.error("a value from the payload: SECRET-42")
        self.committed.append(offsets)
        return []


class WatchedLoader(Loader):
    """The real loader, telling when each batch (by its first offset) has been processed, and on which thread."""

    def __init__(self, sink: WarehouseSink) -> None:
        super().__init__(PREFIX, WARDS, sink, 0.1, REGISTER)
        self.processed: dict[int, threading.Event] = {}
        self.process_threads: set[str] = set()

    def process(self, messages: Sequence[RawMessage]) -> BatchResult:
        result = super().process(messages)
        self.process_threads.add(threading.current_thread().name)
        self.processed.setdefault(messages[0].offset, threading.Event()).set()
        return result

    def was_processed(self, first_offset: int) -> threading.Event:
        return self.processed.setdefault(first_offset, threading.Event())


def _batch(first: int, n: int) -> list[RawMessage]:
    return [_message(offset, None) for offset in range(first, first + n)]


def test_the_next_batch_is_processed_while_the_one_before_it_is_written_and_written_after_it() -> None:
    sink = GatedSink(hold={0})
    loader = WatchedLoader(sink)
    pipeline = BatchPipeline(loader)
    first, second = pipeline.submit(_batch(0, 10)), pipeline.submit(_batch(10, 10))
    assert sink.writing.wait(WAIT)
    # The first batch's write is under way (held): the second batch is processed meanwhile, and not written.
    assert loader.was_processed(10).wait(WAIT), "the next batch waited for the write before it"
    assert sink.committed == [] and not second.done()
    sink.release.set()
    assert [len(f.result(WAIT).events) for f in (first, second)] == [10, 10]
    assert sink.committed == [list(range(10)), list(range(10, 20))]
    assert loader.process_threads.isdisjoint(sink.threads)  # two threads: one processes, the other writes


def test_a_write_failing_while_the_next_batch_is_processed_lets_nothing_of_the_next_batch_be_written() -> None:
    sink = GatedSink(hold={0}, fail=set(range(10)))  # not row-level (42P01): retried once, then it fails
    loader = WatchedLoader(sink)
    pipeline = BatchPipeline(loader)
    first, second = pipeline.submit(_batch(0, 10)), pipeline.submit(_batch(10, 10))
    assert sink.writing.wait(WAIT)
    assert loader.was_processed(10).wait(WAIT)  # the next batch is ready to write when the failure comes
    sink.release.set()
    with pytest.raises(psycopg.errors.UndefinedTable):
        first.result(WAIT)
    with pytest.raises(EarlierBatchFailed):
        second.result(WAIT)
    assert sink.attempts == [list(range(10)), list(range(10))]  # the batch and its retry; nothing of the next
    assert sink.committed == []
    third = pipeline.submit(_batch(20, 10))  # and nothing later either: the process is on its way out
    with pytest.raises(EarlierBatchFailed):
        third.result(WAIT)
    assert sink.attempts == [list(range(10)), list(range(10))]


def test_a_poison_message_is_isolated_before_anything_of_the_next_batch_is_written() -> None:
    sink = GatedSink(hold={0}, fail={3}, error=psycopg.errors.RaiseException)  # row-level (P0001)
    loader = WatchedLoader(sink)
    pipeline = BatchPipeline(loader)
    first, second = pipeline.submit(_batch(0, 16)), pipeline.submit(_batch(16, 16))
    assert sink.writing.wait(WAIT)
    assert loader.was_processed(16).wait(WAIT)
    sink.release.set()
    settled, after = first.result(WAIT), second.result(WAIT)
    assert [letter.source_offset for letter in settled.dead_letters] == [3]
    assert len(after.events) == 16 and after.dead_letters == []
    # Every write of the first batch (the failing ones, its halves, its dead letter) comes before the second's.
    assert sink.attempts[-1] == sink.committed[-1] == list(range(16, 32))
    assert all(max(offsets) < 16 for offsets in sink.attempts[:-1])
    assert sorted(o for offsets in sink.committed[:-1] for o in offsets) == list(range(16))  # 3 as a dead letter
    assert [3] in sink.committed


def test_a_processed_batch_whose_write_fails_is_processed_again_on_the_retry() -> None:
    sink = GatedSink(fail={0}, error=psycopg.errors.UndefinedTable, fail_times=1)  # once; not an outage
    loader = WatchedLoader(sink)
    result = BatchPipeline(loader).submit(_batch(0, 10)).result(WAIT)
    assert len(result.events) == 10
    assert sink.attempts == [list(range(10)), list(range(10))]
    # The retry wrote rows made afresh (each processing draws new record keys), not the failed write's rows again.
    assert sink.record_keys[0] != sink.record_keys[1]
    assert [e.record_key for e in result.events] == sink.record_keys[1]


def test_the_retry_decides_with_a_memo_of_its_own_while_the_next_batch_is_decided_beside_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A retry on the warehouse thread runs while the processing thread works on the next batch: the two never
    share a decision memo."""
    used: list[tuple[str, int]] = []  # (thread, memo) per processing
    real = process_batch

    def watched(
        messages: Sequence[RawMessage], *args: object, **kwargs: object
    ) -> BatchResult:  # the loader's process_batch, noting who used which memo
        memo = cast(WarehouseDecisions, args[-1])
        used.append((threading.current_thread().name, id(memo)))
        return real(messages, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(loader_module, "process_batch", watched)
    sink = GatedSink(fail=set(range(10)), error=psycopg.errors.UndefinedTable, fail_times=1)
    loader = WatchedLoader(sink)
    pipeline = BatchPipeline(loader)
    futures = [pipeline.submit(_batch(first, 10)) for first in (0, 10, 20)]
    assert [len(f.result(WAIT).events) for f in futures] == [10, 10, 10]
    processing = {memo for thread, memo in used if thread.startswith("processing")}
    warehouse = {memo for thread, memo in used if thread.startswith("warehouse")}
    assert len(used) == 4 and processing and warehouse  # three batches and one retry
    assert processing.isdisjoint(warehouse)


@dataclass(frozen=True)
class _Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()


def worker_whose_write_fails() -> None:
    """Run by the next test in a process of its own: the worker's BatchSink with a write that fails (not row-level)
    while the next batch is processed; a batch's offsets are committed once its awaitable completes, as the batch
    fetcher does. Prints each write and each commit."""
    sink = GatedSink(hold={0}, fail=range(10), report=True)
    loader = WatchedLoader(sink)
    batches = WarehouseBatches(loader, cast(faust.TopicT, None))  # no dead letters to send

    async def run() -> None:
        async def commit_after(done: Awaitable[None], records: list[_Record]) -> None:
            await done
            print("committed", records[-1].offset, flush=True)

        records = [[_Record(m.topic, m.partition, m.offset, m.key, m.value) for m in _batch(f, 10)] for f in (0, 10)]
        tasks = [asyncio.ensure_future(commit_after(batches.submit(r), r)) for r in records]
        assert await asyncio.to_thread(sink.writing.wait, WAIT)
        assert await asyncio.to_thread(loader.was_processed(10).wait, WAIT)
        sink.release.set()
        await asyncio.gather(*tasks)

    asyncio.run(run())
    print("returned", flush=True)


def test_the_worker_exits_without_committing_when_a_write_fails_while_the_next_batch_is_processed() -> None:
    code = "from tests.unit.stream_processors.test_batch_pipeline import worker_whose_write_fails as w; w()"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr[-2000:]
    batch = str(list(range(10)))
    assert done.stdout.splitlines() == [f"write {batch}", f"write {batch}"]  # the batch and its retry: no commit
    assert "batch could not be loaded (UndefinedTable, sqlstate 42P01)" in done.stderr
    assert "SECRET-42" not in done.stderr
