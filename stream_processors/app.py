"""The faust application: consume every partner topic, load batches, dead-letter what cannot be loaded.

Delivery is at-least-once: a batch's offsets are committed only once the warehouse has committed the batch and
its dead letters are on their topic (stream_processors.fetcher). The upserts on the event id, and the decisions,
dead letters and retractions keyed by their source, make a replay harmless.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import tempfile
import time
from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import faust
from faust.types.auth import SASLMechanism

from broker_access.credentials import BrokerAccess
from sharing_protocols.topics import dead_letter_topic
from stream_processors.batch import BatchResult, RawMessage
from stream_processors.fetcher import BatchApp, Record, TablelessManager
from stream_processors.loader import Loader
from stream_processors.pipeline import BatchPipeline
from stream_processors.settings import WorkerSettings
from stream_processors.subscription import PartnerTopics, partner_topics_among
from stream_processors.worker_metrics import WorkerMetrics

log = logging.getLogger(__name__)


def _headers(raw: Any) -> list[tuple[str, bytes]]:
    """A record's headers as a producer sends them again (a dead letter's): names as text, values as bytes."""
    items = raw.items() if isinstance(raw, dict) else (raw or [])
    return [(str(k), bytes(v or b"")) for k, v in items]


def _fatal(what: str, exc: BaseException) -> NoReturn:
    """Exit at once without acking the batch (it is consumed again on restart). Logs no event content."""
    log.critical(
        "%s (%s, sqlstate %s); exiting without acking it", what, type(exc).__name__, getattr(exc, "sqlstate", None)
    )
    os._exit(1)


def broker_credentials(access: BrokerAccess) -> faust.SASLCredentials:
    """faust's SASL_SSL credentials for `access` (aiokafka gets the mechanism, username, password and TLS context)."""
    return faust.SASLCredentials(
        username=access.username,
        password=access.password.get_secret_value(),
        ssl_context=access.ssl_context(),
        mechanism=SASLMechanism(access.mechanism),
    )


def consumer_settings(access: BrokerAccess, batch_size: int) -> dict[str, Any]:
    """faust settings for batch consumption of raw records as `access`'s principal (shared with the no-op benchmark
    agent)."""
    data_root = Path(tempfile.gettempdir()) / "hub-faust"
    data_root.mkdir(parents=True, exist_ok=True)
    return {
        "broker": [f"kafka://{server}" for server in access.servers.split(",")],
        "broker_credentials": broker_credentials(access),
        "value_serializer": "raw",
        "key_serializer": "raw",
        "store": "memory://",
        # faust keeps a data directory even with in-memory tables: keep it out of the working directory.
        "datadir": str(data_root / "{conf.name}-data"),
        "web_enabled": False,
        "consumer_auto_offset_reset": "earliest",
        "stream_buffer_maxsize": batch_size * 4,
        "broker_max_poll_records": batch_size * 2,
        "consumer_max_fetch_size": 8 * 1024 * 1024,
    }


def membership_settings(worker: WorkerSettings) -> dict[str, Any]:
    """faust settings of the worker's membership of its group: how long a silent member keeps its partitions, how
    often it heartbeats, its group instance id (static membership when set; faust hands it to the one consumer that
    joins the group, its producer and admin clients join none), and no table standbys: the loader keeps no faust
    table, and with a standby asked for faust's assignor keeps every member's partitions up to its most, so a worker
    that joins three holding two of six partitions each is given none."""
    return {
        "broker_session_timeout": worker.session_timeout_seconds,
        "broker_heartbeat_interval": min(3.0, worker.session_timeout_seconds / 3),
        "consumer_group_instance_id": worker.instance_id,
        "table_standby_replicas": 0,
    }


class WarehouseBatches:
    """The loader as a BatchSink: each batch processed on the processing thread and loaded on the warehouse thread
    (the next batch processed while this one is written, in submission order: stream_processors.pipeline), then its
    dead letters sent and acknowledged (then counted in `metrics`, if given). Any failure exits the process before
    the batch's offsets are committed."""

    def __init__(self, loader: Loader, dead_letter: faust.TopicT, metrics: WorkerMetrics | None = None) -> None:
        self._pipeline = BatchPipeline(loader)
        self._dead_letter = dead_letter
        self._metrics = metrics

    def submit(self, records: Sequence[Record]) -> Awaitable[None]:
        # aiokafka's headers as they are: (name, value) pairs, which the loader only reads (about 12 us an event to
        # copy them on the event loop's thread, 8 % of the worker's samples in a profile)
        messages = [RawMessage(r.topic, r.partition, r.offset, r.key, r.value, r.headers) for r in records]
        started = time.monotonic()
        return self._finish(records, self._pipeline.submit(messages), started)

    async def _finish(
        self, records: Sequence[Record], future: concurrent.futures.Future[BatchResult], started: float
    ) -> None:
        try:
            result = await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            # Cancelled mid-batch: let the warehouse commit finish (or exit); the offsets are not committed.
            try:
                future.result()
            except BaseException as failure:
                _fatal("batch not committed during shutdown", failure)
            raise
        except BaseException as exc:
            _fatal("batch could not be loaded", exc)
        if result.dead_letters:
            await self._send_dead_letters(records, result)
        if self._metrics is not None:
            self._metrics.batch_committed(result, time.monotonic() - started)

    async def _send_dead_letters(self, records: Sequence[Record], result: BatchResult) -> None:
        try:
            by_offset = {(r.topic, r.partition, r.offset): r for r in records}
            deliveries = []
            for letter in result.dead_letters:
                where = (letter.source_topic, letter.source_partition, letter.source_offset)
                source = by_offset[where]
                headers = [
                    *_headers(source.headers),
                    ("dlq.reason", letter.reason.encode()),
                    ("dlq.source", "/".join(map(str, where)).encode()),
                ]
                deliveries.append(await self._dead_letter.send(key=source.key, value=source.value, headers=headers))
            await asyncio.gather(*deliveries)
        except BaseException as exc:
            _fatal("dead letters could not be sent", exc)


def create_app(
    worker: WorkerSettings, loader: Loader, topics: Sequence[str], metrics: WorkerMetrics | None = None
) -> faust.App:
    """The faust app loading every partner topic in batches (stream_processors.fetcher), each processed while the one
    before it is written (stream_processors.pipeline), counting what it commits in `metrics` (if given).

    `topics` are the partner topics the broker has at start (at least one: a consumer cannot subscribe to none);
    those created later are added as they appear (stream_processors.subscription).
    """
    initial = partner_topics_among(worker.topic_prefix, topics)
    if not initial:
        raise ValueError("the loader needs at least one partner topic to subscribe to")
    app = BatchApp(
        worker.group,
        **consumer_settings(worker.broker, worker.batch_size),
        topic_partitions=worker.partitions,
        topic_replication_factor=1,
        producer_acks=-1,
        broker_commit_interval=1.0,
        TableManager=TablelessManager,
        **membership_settings(worker),
    )
    # The partner topics are the conductor's subscription (no agent: the batch fetcher reads the consumer itself).
    app.topics.add(app.topic(*initial, key_type=bytes, value_type=bytes))
    dead_letter = app.topic(dead_letter_topic(worker.topic_prefix), key_type=bytes, value_type=bytes)
    app.batch_sink = WarehouseBatches(loader, dead_letter, metrics)
    app.batch_size, app.batch_seconds = worker.batch_size, worker.batch_seconds
    subscription = PartnerTopics(app, worker.topic_prefix, initial)

    async def refresh_topics() -> None:
        try:
            await subscription.refresh()
        except Exception as exc:  # the broker briefly unavailable: keep the subscription, look again next time
            log.warning("could not list partner topics (%s); trying again later", type(exc).__name__)

    app.timer(worker.topic_refresh_seconds)(refresh_topics)
    return app
