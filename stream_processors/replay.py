"""Re-derive the warehouse from the partner topics: read each partition from its start up to the end offset taken
when the replay began, in batches, through the worker's own loader and its two stages (stream_processors.pipeline).

The partitions are assigned, not subscribed: no consumer group is joined and no offset is committed, so the running
worker's group and offsets are untouched. Batches are handled one after another, in each partition's order (two
versions of an event apply in publication order), while the next batch is fetched and the one after the batch being
written is processed: at most two batches are in flight.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from kafka import KafkaConsumer
from kafka import TopicPartition as KafkaPartition

from broker_access.credentials import BrokerAccess
from stream_processors.batch import BatchResult, RawMessage
from stream_processors.loader import Loader
from stream_processors.pipeline import BatchPipeline
from warehouse.governance.replays import ReplayCounts

CLIENT_ID = "hub-replay"
POLL_MS = 500
IN_FLIGHT = 2  # one batch written while the next is processed


@dataclass(frozen=True)
class Extent:
    """Where one partition's replay starts and the offset it stops before (its end when the replay began)."""

    first: int
    end: int

    @property
    def messages(self) -> int:
        return max(self.end - self.first, 0)


def label(tp: TopicPartition) -> str:
    """ "topic/partition", as the replay record names a partition."""
    return f"{tp.topic}/{tp.partition}"


def counted(counts: ReplayCounts, messages: int, result: BatchResult) -> ReplayCounts:
    """`counts` with a handled batch of `messages` added (each message is one decision, retraction or dead letter)."""
    released = sum(1 for d in result.decisions if d.outcome == "released")
    return ReplayCounts(
        messages=counts.messages + messages,
        released=counts.released + released,
        withheld=counts.withheld + result.withheld,
        retracted=counts.retracted + len(result.retractions),
        dead_lettered=counts.dead_lettered + len(result.dead_letters),
    )


def _consumer(access: BrokerAccess, batch_size: int) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        **access.aiokafka(),
        client_id=CLIENT_ID,
        group_id=None,  # no group: nothing joined, nothing committed
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=batch_size,
        fetch_max_bytes=16 * 1024 * 1024,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )


def extents(access: BrokerAccess, topics: Sequence[str]) -> dict[TopicPartition, Extent]:
    """Each partition of `topics` with its first offset and its end offset now: what a replay started now reads."""
    consumer = KafkaConsumer(**access.kafka_python(), client_id=CLIENT_ID, enable_auto_commit=False)  # no group
    try:
        partitions = [
            TopicPartition(topic, partition)
            for topic in topics
            for partition in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if not partitions:
            return {}
        first = consumer.beginning_offsets([KafkaPartition(*tp) for tp in partitions])
        end = consumer.end_offsets([KafkaPartition(*tp) for tp in partitions])
    finally:
        consumer.close()
    return {tp: Extent(first[KafkaPartition(*tp)], end[KafkaPartition(*tp)]) for tp in partitions}


async def _replay(
    access: BrokerAccess,
    extents: Mapping[TopicPartition, Extent],
    loader: Loader,
    batch_size: int,
    progress: Callable[[ReplayCounts], None],
) -> ReplayCounts:
    counts = ReplayCounts()
    remaining = {tp: e for tp, e in extents.items() if e.messages}
    if not remaining:
        return counts
    consumer = _consumer(access, batch_size)
    await consumer.start()
    pipeline = BatchPipeline(loader)
    in_flight: deque[tuple[int, asyncio.Future[BatchResult]]] = deque()  # (messages, result), oldest first

    async def settled() -> None:
        nonlocal counts
        messages, result = in_flight.popleft()
        counts = counted(counts, messages, await result)
        progress(counts)

    try:
        consumer.assign(list(remaining))
        for tp, extent in remaining.items():
            consumer.seek(tp, extent.first)  # a start that retention has since deleted: the earliest offset left
        pending: list[RawMessage] = []
        while remaining or pending:
            if remaining:
                fetched = await consumer.getmany(*remaining, timeout_ms=POLL_MS, max_records=batch_size)
                for tp, records in fetched.items():
                    stop = remaining[tp].end
                    pending += [
                        RawMessage(r.topic, r.partition, r.offset, r.key, r.value, r.headers)
                        for r in records
                        if r.offset < stop
                    ]
                for tp in list(remaining):
                    if await consumer.position(tp) >= remaining[tp].end:
                        consumer.pause(tp)
                        del remaining[tp]
            if pending and (len(pending) >= batch_size or not remaining):
                if len(in_flight) >= IN_FLIGHT:
                    await settled()
                batch, pending = pending[:batch_size], pending[batch_size:]
                in_flight.append((len(batch), asyncio.wrap_future(pipeline.submit(batch))))
        while in_flight:
            await settled()
    finally:
        # stopped part-way: let the batches submitted finish (or fail: a later one then writes nothing) first
        await asyncio.gather(*(result for _, result in in_flight), return_exceptions=True)
        pipeline.close()
        await consumer.stop()
    return counts


def replay(
    access: BrokerAccess,
    extents: Mapping[TopicPartition, Extent],
    loader: Loader,
    batch_size: int,
    progress: Callable[[ReplayCounts], None] = lambda counts: None,
) -> ReplayCounts:
    """Read every partition of `extents` from its first offset to (not including) its end, signed in as `access`,
    and hand the messages to `loader` in batches of `batch_size`; `progress` is told the counts after each batch.
    Returns what the messages became."""
    return asyncio.run(_replay(access, extents, loader, batch_size, progress))
