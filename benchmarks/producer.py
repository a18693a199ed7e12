"""Producer throughput: `hub publish`'s path against a plain kafka-python loop sending the same records.

Writes N police.uk street rows (the real January 2019 Sussex file, cycled, every repeat of a crime given a
fresh Crime ID) to a temporary directory, then, against the same broker:

- **hub**: `publish_file` with the `Publisher`, options built as `hub publish` builds them (protocol register,
  keyed event ids): read, validate, scrub, build and serialise each envelope, send, flush;
- **baseline**: a KafkaProducer loop with the Publisher's settings (idempotent, acks=all, same batch size and
  linger) sending the same pre-serialised records (key, value, headers) to another topic, flushed.

Prints both rates and the ratio, plus the publish path without Kafka (`--profile FILE` profiles it).

    .venv/bin/python -m benchmarks.producer --rows 200000 [--repeat 3] [--profile FILE]
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import hashlib
import pstats
import tempfile
import time
import uuid
from pathlib import Path

from kafka import KafkaAdminClient, KafkaProducer

from broker_access.credentials import BrokerAccess
from deploy import local
from deploy.protocol_files import configured_register
from deploy.settings import KafkaSettings, LocalSettings, broker_access, linkage_key_variables
from deploy.topics import ensure_topics
from producers.anonymisation.linkage_keys import env_name
from producers.feed_registry import get_feed
from producers.publish import RECORD_ID_DOMAIN, PublishSummary, SourceOptions, numbered, publish_file
from producers.publisher import PRODUCER_SETTINGS, Message, Publisher
from producers.source_options import build_source_options

SOURCE = "feeds/police_uk/2019-01-sussex-street.csv"
DATASET = "police-uk-street"
Record = tuple[bytes, bytes | None, list[tuple[str, bytes]]]


def write_rows(shared_data: Path, out: Path, count: int) -> Path:
    """`count` rows of the Sussex file, cycled; a crime repeated in a later cycle gets a fresh, distinct Crime ID."""
    with (shared_data / SOURCE).open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = list(reader)
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for n in range(count):
            cycle, row = divmod(n, len(rows))
            fields = list(rows[row])
            if cycle and fields[0]:
                fields[0] = hashlib.sha256(f"{cycle}:{fields[0]}".encode()).hexdigest()
            writer.writerow(fields)
    return out


def hub_options() -> SourceOptions:
    """The options `hub publish police-uk-street` builds, with a benchmark secret for keyed event ids."""
    feed = get_feed(DATASET)
    environ = {**linkage_key_variables(), env_name(RECORD_ID_DOMAIN): "b" * 64}
    return build_source_options(feed, feed.default_partner, register=configured_register(), environ=environ)


def hub_publish(access: BrokerAccess, topic: str, path: Path, options: SourceOptions) -> tuple[float, PublishSummary]:
    """Seconds for `publish_file` through the Publisher, flushed; every record must be acknowledged."""
    feed = get_feed(DATASET)
    with Publisher(access, client_id="bench-hub-publish") as publisher:
        started = time.perf_counter()
        summary = publish_file(feed, path, options, lambda message, row: publisher.send(topic, message, row))
        publisher.flush()
        elapsed = time.perf_counter() - started
    sent = summary.published + summary.retracted
    if publisher.failed or publisher.delivered != sent:
        raise SystemExit(f"hub: {publisher.delivered} of {sent} acknowledged, failures {publisher.failed}")
    return elapsed, summary


def records(path: Path, options: SourceOptions) -> list[Record]:
    """The records the hub path sends for `path`, serialised in advance."""
    feed = get_feed(DATASET)
    summary = PublishSummary(str(path), feed.name)
    return [(message.key, message.value, message.headers) for _, message in numbered(feed, path, options, summary)]


def plain_send(access: BrokerAccess, topic: str, items: list[Record]) -> float:
    """Seconds for a kafka-python loop with the Publisher's producer settings, flushed (SASL_SSL as `access`)."""
    producer = KafkaProducer(
        **access.kafka_python(),
        client_id="bench-plain",
        **PRODUCER_SETTINGS,
    )
    try:
        started = time.perf_counter()
        futures = [producer.send(topic, key=key, value=value, headers=headers) for key, value, headers in items]
        producer.flush()
        elapsed = time.perf_counter() - started
    finally:
        producer.close()
    failed = sum(1 for future in futures if future.failed())
    if failed:
        raise SystemExit(f"baseline: {failed} records not acknowledged")
    return elapsed


def without_kafka(path: Path, options: SourceOptions, profile: Path | None) -> float:
    """Seconds for the publish path with a send that does nothing (no broker); optionally profiled."""
    feed = get_feed(DATASET)

    def send(_message: Message, _row: int) -> None:
        return None

    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    publish_file(feed, path, options, send)
    if profiler:
        profiler.disable()
    elapsed = time.perf_counter() - started
    if profiler and profile:
        profiler.dump_stats(str(profile))
        pstats.Stats(str(profile)).sort_stats("tottime").print_stats(25)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each (alternated); the best is reported")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the publish path (no Kafka) here")
    args = parser.parse_args()
    kafka = KafkaSettings()
    if not kafka.external:
        local.ensure_up()
    run = uuid.uuid4().hex[:8]
    hub_topic, plain_topic, warm_topic = (f"bench-producer-{what}-{run}" for what in ("hub", "plain", "warmup"))
    access = broker_access("admin")
    ensure_topics(kafka, [hub_topic, plain_topic, warm_topic], access)
    options = hub_options()
    with tempfile.TemporaryDirectory(prefix="hub-bench-producer-") as tmp:
        path = write_rows(LocalSettings().shared_data.resolve(), Path(tmp) / "police-uk-street.csv", args.rows)
        items = records(path, options)
        plain_send(access, warm_topic, items[:5000])  # connections, broker JIT
        offline_s = without_kafka(path, options, args.profile)
        hub_runs, plain_runs = [], []
        for _ in range(args.repeat):  # alternated, best of each: the machine may be busy with other work
            hub_s, summary = hub_publish(access, hub_topic, path, options)
            hub_runs.append(hub_s)
            plain_runs.append(plain_send(access, plain_topic, items))
        hub_s, plain_s = min(hub_runs), min(plain_runs)
    admin = KafkaAdminClient(**access.kafka_python(), client_id="bench-producer")
    try:
        admin.delete_topics([hub_topic, plain_topic, warm_topic])
    finally:
        admin.close()
    n = len(items)
    if summary.published + summary.retracted != n or summary.rejected:
        raise SystemExit(f"the hub path sent {summary.published} and rejected {summary.rejected}; expected {n}")
    print(f"rows: {args.rows:,} (police.uk Sussex 2019-01, cycled), {n:,} records, best of {args.repeat}")
    print(f"hub       publish_file + Publisher:         {hub_s:7.2f} s  {n / hub_s:10,.0f} events/s")
    print(f"baseline  kafka-python loop, same records:  {plain_s:7.2f} s  {n / plain_s:10,.0f} msgs/s")
    print(f"ratio     hub / baseline:                   {plain_s / hub_s:7.2f}")
    print(f"(publish path without Kafka:                {offline_s:7.2f} s  {n / offline_s:10,.0f} rows/s)")


if __name__ == "__main__":
    main()
