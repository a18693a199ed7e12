"""Producer throughput: `hub publish`'s path against a plain kafka-python loop sending the same records.

Writes N police.uk street rows (the real January 2019 Sussex file, cycled, every repeat of a crime given a
fresh Crime ID) to a temporary directory, then, against the same broker:

- **row process**: what `hub publish` does for a file this large (`producers.row_process`): a child process reads,
  validates, scrubs, builds and serialises each envelope; the parent sends through the `Publisher`, flushed;
- **one process**: `publish_file` with the `Publisher` (the path for files under 4 MiB), same options (built as
  `hub publish` builds them: protocol register, keyed event ids);
- **baseline**: a KafkaProducer loop with the Publisher's settings (idempotent, acks=all, same batch size and
  linger) sending the same pre-serialised records (key, value, headers) to another topic, flushed.

Before timing, the records of the two hub paths (source rows, keys, values, headers) and their summaries must be
equal. Prints the rates and the ratios, plus the publish path without Kafka (`--profile FILE` profiles it).

    .venv/bin/python -m benchmarks.producer --rows 200000 [--repeat 2] [--profile FILE]
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
from producers.row_process import RowProcess, publish_in_child
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


def hub_publish(
    access: BrokerAccess, topic: str, path: Path, options: SourceOptions, in_child: bool
) -> tuple[float, PublishSummary]:
    """Seconds for the publish path (rows in a child process, or in this one) through the Publisher, flushed;
    every record must be acknowledged."""
    feed = get_feed(DATASET)
    publish = publish_in_child if in_child else publish_file
    with Publisher(access, client_id="bench-hub-publish") as publisher:
        started = time.perf_counter()
        summary = publish(feed, path, options, lambda message, row: publisher.send(topic, message, row))
        publisher.flush()
        elapsed = time.perf_counter() - started
    sent = summary.published + summary.retracted
    if publisher.failed or publisher.delivered != sent:
        raise SystemExit(f"hub: {publisher.delivered} of {sent} acknowledged, failures {publisher.failed}")
    return elapsed, summary


def records(path: Path, options: SourceOptions) -> tuple[list[Record], str, PublishSummary]:
    """The records the one-process path sends for `path`, serialised in advance, their digest (with their source
    rows) and the summary."""
    feed = get_feed(DATASET)
    summary = PublishSummary(str(path), feed.name)
    digest = hashlib.sha256()
    items: list[Record] = []
    for row, message in numbered(feed, path, options, summary):
        items.append((message.key, message.value, message.headers))
        digest.update(repr((row, *items[-1])).encode())
    return items, digest.hexdigest(), summary


def child_digest(path: Path, options: SourceOptions) -> tuple[str, PublishSummary | None]:
    """The digest of the records the row process makes for `path`, as `records` makes it, and its summary."""
    digest = hashlib.sha256()
    with RowProcess(get_feed(DATASET), path, options) as rows:
        for row, record in rows:
            digest.update(repr((row, record.key, record.value, record.headers)).encode())
        return digest.hexdigest(), rows.summary


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
    child_topic, hub_topic, plain_topic, warm_topic = (
        f"bench-producer-{what}-{run}" for what in ("child", "hub", "plain", "warmup")
    )
    access = broker_access("admin")
    ensure_topics(kafka, [child_topic, hub_topic, plain_topic, warm_topic], access)
    options = hub_options()
    with tempfile.TemporaryDirectory(prefix="hub-bench-producer-") as tmp:
        path = write_rows(LocalSettings().shared_data.resolve(), Path(tmp) / "police-uk-street.csv", args.rows)
        items, digest, expected = records(path, options)
        if child_digest(path, options) != (digest, expected):
            raise SystemExit("the row process's records or summary differ from the one-process path's")
        plain_send(access, warm_topic, items[:5000])  # connections, broker JIT
        offline_s = without_kafka(path, options, args.profile)
        child_runs, hub_runs, plain_runs = [], [], []
        for _ in range(args.repeat):  # alternated, best of each: the machine may be busy with other work
            child_s, summary = hub_publish(access, child_topic, path, options, in_child=True)
            child_runs.append(child_s)
            if summary != expected:
                raise SystemExit("the row process's summary differs from the one-process path's")
            hub_s, summary = hub_publish(access, hub_topic, path, options, in_child=False)
            hub_runs.append(hub_s)
            plain_runs.append(plain_send(access, plain_topic, items))
        child_s, hub_s, plain_s = min(child_runs), min(hub_runs), min(plain_runs)
    admin = KafkaAdminClient(**access.kafka_python(), client_id="bench-producer")
    try:
        admin.delete_topics([child_topic, hub_topic, plain_topic, warm_topic])
    finally:
        admin.close()
    n = len(items)
    if summary.published + summary.retracted != n or summary.rejected:
        raise SystemExit(f"the hub path sent {summary.published} and rejected {summary.rejected}; expected {n}")
    print(f"rows: {args.rows:,} (police.uk Sussex 2019-01, cycled), {n:,} records, best of {args.repeat}")
    print(f"row process  child + Publisher:                {child_s:7.2f} s  {n / child_s:10,.0f} events/s")
    print(f"one process  publish_file + Publisher:         {hub_s:7.2f} s  {n / hub_s:10,.0f} events/s")
    print(f"baseline     kafka-python loop, same records:  {plain_s:7.2f} s  {n / plain_s:10,.0f} msgs/s")
    print(f"ratio        row process / baseline:           {plain_s / child_s:7.2f}")
    print(f"ratio        one process / baseline:           {plain_s / hub_s:7.2f}")
    print(f"(publish path without Kafka:                   {offline_s:7.2f} s  {n / offline_s:10,.0f} rows/s)")


if __name__ == "__main__":
    main()
