"""Consumption paths that do nothing but count, on one topic: what each costs before the loader does any work.

    python -m benchmarks.faust_noop [--events 200000] [--partitions 3]   # fills a topic, runs every path on it
    python -m benchmarks.faust_noop --path PATH TOPIC COUNT              # one path (a subprocess of the above)

Paths (each a fresh consumer group reading the same topic from the start, signed in as the operator):
- `take_events`: a faust agent over `stream.take_events` (the worker's path until 2026-12-03);
- `fetcher_callback`: faust's own Fetcher with the conductor's per-record callback replaced by a counter (no
  Event, no Stream: what faust's per-record fetch loop costs by itself);
- `batch_fetcher`: stream_processors.fetcher (faust's consumer fetches, whole batches go to the sink, offsets are
  committed through faust's consumer after each batch): the worker's path now;
- `aiokafka`: aiokafka's own `getmany` with the same settings and no faust (the client's ceiling).
Each prints its events/s from the first record to the COUNT-th; the batch fetcher's count is of committed
offsets.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Sequence
from typing import Any

import faust

from deploy.broker_principals import BrokerAdmin
from deploy.settings import KafkaSettings, LocalSettings, broker_access
from stream_processors.app import consumer_settings
from stream_processors.fetcher import BatchApp, Record
from stream_processors.settings import WorkerSettings

PATHS = ("take_events", "fetcher_callback", "batch_fetcher", "aiokafka")


class _Counter:
    def __init__(self, count: int) -> None:
        self.count = count
        self.seen = 0
        self.started = 0.0

    def add(self, n: int) -> None:
        if not self.seen:
            self.started = time.perf_counter()
        self.seen += n
        if self.seen >= self.count:
            # faust redirects sys.stdout into its logger: write to the real stdout.
            os.write(1, f"\n{self.seen / (time.perf_counter() - self.started):.0f}\n".encode())
            os._exit(0)


class _NoSink:
    """A BatchSink that does nothing."""

    def submit(self, records: Sequence[Record]) -> Awaitable[None]:
        return asyncio.sleep(0)


def _run_faust(app: faust.App) -> None:
    sys.argv = [sys.argv[0], "worker"]
    faust.Worker(app, loglevel="error", quiet=True).execute_from_commandline()


def run_path(path: str, topic: str, count: int) -> None:
    """Consume `count` records of `topic` along `path`; print events/s and exit."""
    access = broker_access("admin")
    batch_size = WorkerSettings(broker=access).batch_size
    settings = consumer_settings(access, batch_size)
    counter = _Counter(count)
    group = f"noop-{time.time_ns()}"
    if path == "aiokafka":
        asyncio.run(_aiokafka(access, settings, group, topic, counter))
        return
    if path == "batch_fetcher":
        app: faust.App = BatchApp(group, **settings)
        assert isinstance(app, BatchApp)
        app.topics.add(app.topic(topic, key_type=bytes, value_type=bytes))
        app.batch_sink = _NoSink()
        consumer: Any = app.consumer
        commit = consumer._commit_offsets
        committed: dict[Any, int] = {}  # the topic is new: every partition starts at offset 0

        async def counted_commit(offsets: dict[Any, int], start_new_transaction: bool = True) -> bool:
            done = bool(await commit(offsets, start_new_transaction))
            counter.add(sum(offset - committed.get(tp, 0) for tp, offset in offsets.items()))
            committed.update(offsets)
            return done

        consumer._commit_offsets = counted_commit
        _run_faust(app)
        return
    app = faust.App(group, **settings)
    source = app.topic(topic, key_type=bytes, value_type=bytes)
    if path == "fetcher_callback":
        app.topics.add(source)

        async def count_one(message: Any) -> None:
            counter.add(1)

        app.consumer.callback = count_one  # type: ignore[attr-defined]  # the conductor's per-record handler
        _run_faust(app)
        return

    async def count_events(stream: faust.StreamT[bytes]) -> None:
        assert isinstance(stream, faust.Stream)
        async for events in stream.take_events(batch_size, within=0.5):
            counter.add(len(events))

    app.agent(source, concurrency=1)(count_events)
    _run_faust(app)


async def _aiokafka(access: Any, settings: dict[str, Any], group: str, topic: str, counter: _Counter) -> None:
    from aiokafka import AIOKafkaConsumer
    from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

    consumer = AIOKafkaConsumer(
        topic,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=settings["broker_max_poll_records"],
        max_partition_fetch_bytes=settings["consumer_max_fetch_size"],
        bootstrap_servers=access.servers,
        **credentials_to_aiokafka_auth(settings["broker_credentials"]),
    )
    await consumer.start()
    while True:
        batches = await consumer.getmany(timeout_ms=1000)
        counter.add(sum(len(records) for records in batches.values()))


def measure(path: str, topic: str, count: int) -> float:
    """Events/s of `path` on `topic` (a subprocess: faust owns its event loop)."""
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.faust_noop", "--path", path, topic, str(count)],
        capture_output=True,
        text=True,
        timeout=1800,
        check=True,
    )
    rates = re.findall(r"^(\d+)$", result.stdout, flags=re.MULTILINE)
    return float(rates[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--path", choices=PATHS)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--partitions", type=int, default=KafkaSettings().partitions)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each path (the best is printed)")
    parser.add_argument("topic_count", nargs="*")
    args = parser.parse_args()
    if args.path:
        run_path(args.path, args.topic_count[0], int(args.topic_count[1]))
        return
    from benchmarks import ceilings
    from benchmarks.jitter import write_jittered

    local = LocalSettings()
    csv_path = write_jittered(local.shared_data.resolve(), local.home.resolve() / "bench" / "noop.csv", args.events)
    access = broker_access("admin")
    topic = f"noop-{uuid.uuid4().hex[:8]}"
    with BrokerAdmin(access, client_id="bench-noop") as admin:
        admin.create_topics([topic], args.partitions)
    ceilings.kafka_python_send(access, topic, ceilings.payloads(csv_path, args.events))
    print(f"{args.events:,} envelopes on {topic} ({args.partitions} partitions); load {os.getloadavg()}")
    rates = {path: max(measure(path, topic, args.events) for _ in range(args.repeat)) for path in PATHS}
    for path, rate in rates.items():
        print(f"  {path:18} {rate:10,.0f} events/s  ({rate / rates['take_events']:5.1f}x take_events)")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
