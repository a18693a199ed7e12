"""faust's Fetcher replaced by one that hands whole record batches to the loader and commits them in order.

faust's own Fetcher turns every record into a ConsumerMessage, awaits a conductor callback per record (which makes
an Event per subscribed channel and queues it for a Stream), and commits what the streams acked: about 5,500
records/s on this machine before the loader does anything (docs/benchmarks.md). This fetcher takes the batches
faust's consumer fetches (`Consumer._wait_next_records`: its flow control, its active partitions, the records
aiokafka already decoded) and gives them to a `BatchSink` as they are; when the sink says a batch is in the
warehouse (and its dead letters on their topic), it commits the batch's offsets through faust's consumer
(`Consumer._commit_offsets`, what faust's own commits end in). Everything else stays faust's: the app, its
topics and conductor (the subscription), the consumer group and its rebalances, the producer, the worker's
lifecycle.

Batches are committed in the order they were fetched, each after its own sink work and after every earlier
batch: the sink starts a batch only after the previous one was handed over, so the next batch is fetched (and
queued) while the previous one loads. Before a rebalance takes partitions away, and before the worker stops,
every batch handed over is finished and committed (BatchApp's `_on_partitions_revoked`, inside the group's
rebalance); records fetched once the rebalance began are dropped and fetched again from the committed
offsets. So a revoked partition's batch is committed whole or not at all.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Sequence
from typing import Any, Protocol, cast

import faust
from faust.tables import TableManager
from faust.transport.consumer import Consumer, Fetcher
from faust.types import TP
from mode import Service
from mode.utils.objects import cached_property

from stream_processors.settings import WorkerSettings

log = logging.getLogger(__name__)


class Record(Protocol):
    """A record as faust's aiokafka consumer fetches it (aiokafka's ConsumerRecord), as far as the hub reads it."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...


class BatchSink(Protocol):
    """Where batches go. `submit` is called once per batch, in fetch order, and must start the batch's work before
    it returns (so that batches reach the warehouse in that order); the awaitable completes once the batch is
    committed in the warehouse and its dead letters acknowledged, and never fails (a failure exits the process)."""

    def submit(self, records: Sequence[Record]) -> Awaitable[None]: ...


def next_offsets(records: Sequence[Record]) -> dict[TP, int]:
    """The offsets to commit once `records` are processed: one past the last record of each partition."""
    offsets: dict[TP, int] = {}
    for record in records:
        tp = TP(record.topic, record.partition)
        if offsets.get(tp, -1) <= record.offset:
            offsets[tp] = record.offset + 1
    return offsets


class InFlight:
    """The batches handed over and not yet committed, oldest first (each commits after the one before it).

    A finished task is forgotten here, when it is next looked at, not by its done-callback: that callback runs a loop
    iteration after the task ends, and awaiting a finished task does not yield to the loop, so a loop that waited for
    the oldest task until the callback removed it would spin for ever without letting the callback run (the worker
    then fetched and committed nothing, silently, with its event loop at full CPU)."""

    def __init__(self) -> None:
        self._tasks: deque[asyncio.Task[None]] = deque()

    def __len__(self) -> int:
        return len(self._tasks)

    @property
    def newest(self) -> asyncio.Task[None] | None:
        return self._tasks[-1] if self._tasks else None

    def add(self, task: asyncio.Task[None]) -> None:
        self._tasks.append(task)

    def _forget_finished(self) -> None:
        """Drop the finished tasks, raising a failed one's error (as awaiting it would)."""
        for task in [t for t in self._tasks if t.done()]:
            self._tasks.remove(task)
            task.result()

    async def wait_below(self, limit: int) -> None:
        """Return once fewer than `limit` batches are in flight."""
        self._forget_finished()
        while len(self._tasks) >= limit:
            await asyncio.wait([self._tasks[0]])  # never cancels the task; raises nothing itself
            self._forget_finished()

    async def drain(self) -> None:
        """Return once every batch handed over is committed."""
        await self.wait_below(1)


class BatchFetcher(Fetcher):
    """Takes up to `batch_size` records (waiting at most `batch_seconds` after the first) from faust's consumer and
    hands them to `sink` whole; commits each batch's offsets once the sink is done with it and every earlier one."""

    def __init__(
        self,
        app: faust.App,
        sink: BatchSink,
        batch_size: int,
        batch_seconds: float,
        in_flight: int = 2,
        **kwargs: Any,
    ) -> None:
        self.sink = sink
        self.batch_size = batch_size
        self.batch_seconds = batch_seconds
        self.in_flight = in_flight
        self._pending = InFlight()
        self._left: list[Record] = []  # fetched beyond the last batch taken
        super().__init__(app, **kwargs)

    @property
    def _consumer(self) -> Consumer:
        return cast(Consumer, self.app.consumer)

    async def _take(self) -> list[Record]:
        """At most `batch_size` records, in each partition's order: what came within `batch_seconds` of the first
        (with what the previous take left over); empty when nothing came within a second."""
        consumer = self._consumer
        batch, self._left = self._left, []
        deadline = time.monotonic() + self.batch_seconds if batch else None
        while len(batch) < self.batch_size and not self.should_stop:
            timeout = 1.0 if deadline is None else deadline - time.monotonic()
            if timeout <= 0 or (batch and not consumer.flow_active):
                break
            # Waits while the flow is stopped (a rebalance): never return at once, or this loop would starve faust's.
            records, _ = await consumer._wait_next_records(timeout)
            if records:
                for tp_records in records.values():
                    batch.extend(cast(list[Record], tp_records))
                if deadline is None:
                    deadline = time.monotonic() + self.batch_seconds
            elif deadline is None:
                break
        # A prefix of the records holds a prefix of each partition's: the rest starts the next batch.
        batch, self._left = batch[: self.batch_size], batch[self.batch_size :]
        return batch

    @Service.task
    async def _fetcher(self) -> None:
        """Fetch, hand over, commit in order, until stopped."""
        consumer = self._consumer
        try:
            while not self.should_stop:
                generation = self.app.consumer_generation_id
                batch = await self._take()
                await self._pending.wait_below(self.in_flight)
                # No await from this check to the hand-over: a rebalance cannot slip in between.
                if not batch or self.should_stop:
                    continue
                if not consumer.flow_active or self.app.consumer_generation_id != generation:
                    await self._read_again(batch)
                    continue
                now = time.monotonic()
                inbound = self.app.monitor.stream_inbound_time
                for tp in {TP(r.topic, r.partition) for r in batch}:
                    inbound[tp] = now  # faust's livelock monitor: these partitions are being processed
                done = self.sink.submit(batch)
                task = asyncio.ensure_future(self._commit_after(done, self._pending.newest, next_offsets(batch)))
                self._pending.add(task)
        except consumer.consumer_stopped_errors:
            if not self.app.should_stop:
                raise
        finally:
            self.set_shutdown()

    async def _read_again(self, dropped: list[Record]) -> None:
        """Drop a batch fetched across a rebalance: once every batch handed over is committed and the flow resumed,
        seek each partition still assigned back to its first dropped record (or to its committed offset, if another
        worker committed past it meanwhile), so that the dropped records are fetched again. (Seeking to the committed
        offsets alone would skip the records of a partition that has none yet, such as a new partner topic's.)"""
        consumer = self._consumer
        first: dict[TP, int] = {}
        for record in (*dropped, *self._left):
            tp = TP(record.topic, record.partition)
            first[tp] = min(first.get(tp, record.offset), record.offset)
        self._left = []
        await self.drain()
        if not consumer.flow_active:
            await consumer.wait(consumer.can_resume_flow)  # type: ignore[arg-type]  # mode's Event, awaitable .wait()
        if self.should_stop or not consumer.flow_active:
            return
        assigned = consumer.assignment()
        for tp, offset in first.items():
            if tp in assigned:
                committed = consumer._committed_offset.get(tp)
                await consumer.seek(tp, offset if committed is None else max(offset, committed))

    async def _commit_after(
        self, done: Awaitable[None], previous: asyncio.Task[None] | None, offsets: dict[TP, int]
    ) -> None:
        await done
        if previous is not None:
            await previous
        if not await self._consumer._commit_offsets(offsets):
            # The group moved on without waiting (a session timeout): whoever has the partitions now loads the batch
            # again from the last committed offsets, which the warehouse's upserts make harmless.
            log.warning("offsets of a loaded batch were not committed (the group rebalanced); it will be read again")

    async def drain(self) -> None:
        """Wait until every batch handed over is loaded and committed."""
        await self._pending.drain()

    async def on_stop(self) -> None:
        """Finish and commit what was handed over before faust's consumer stops."""
        await self.drain()


class TablelessManager(TableManager):
    """faust's table manager, without its fixed 1 s wait for tables declared late when the app has none (the loader
    keeps no table): that wait delays every start's group join, hence the recovery of a restarted worker."""

    async def on_start(self) -> None:
        if self:  # a table after all: faust's own start
            await super().on_start()
        elif not self.should_stop:
            await self._update_channels()
            await self.recovery.start()


class BatchApp(faust.App):
    """faust's App whose Fetcher is a BatchFetcher (set `batch_sink`, and the batch limits, before it starts), and
    whose rebalances wait for the batches handed over to be committed before partitions are given up."""

    batch_sink: BatchSink | None = None
    batch_size: int = WorkerSettings.model_fields["batch_size"].default  # the worker's defaults, until it sets its own
    batch_seconds: float = WorkerSettings.model_fields["batch_seconds"].default

    @cached_property
    def _fetcher(self) -> Fetcher:
        if self.batch_sink is None:
            raise RuntimeError("BatchApp needs a batch_sink before it starts")
        return BatchFetcher(
            self, self.batch_sink, self.batch_size, self.batch_seconds, loop=self.loop, beacon=self.consumer.beacon
        )

    async def _on_partitions_revoked(self, revoked: set[TP]) -> None:
        """Stop the flow and finish every batch handed over, then let faust give the partitions up. This runs
        inside the group's rebalance, before this worker rejoins, and also while the worker stops (where faust
        itself does nothing), so no other worker reads a partition while a batch of it is still being loaded."""
        self.consumer.stop_flow()
        await cast(BatchFetcher, self._fetcher).drain()
        await super()._on_partitions_revoked(revoked)
