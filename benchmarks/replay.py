"""`hub replay` throughput: fill a partner topic first (`hub publish`, no worker running), then replay it twice.

The first replay loads an empty warehouse (every event inserted), the second re-derives a loaded one under the same
protocols (every decision recorded again, no row changed). Beside them, in the same run, the bare baseline of
benchmarks/end_to_end.py on the same rows: COPY the CSV, then one ST_Intersects ward update. Prints events/s and the
ratios to the baseline.

    .venv/bin/python benchmarks/replay.py [--events 1000000]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
import uuid

import psycopg

from benchmarks.end_to_end import _prepare_database, baseline
from benchmarks.jitter import write_jittered
from deploy import local
from deploy.broker_principals import BrokerAdmin, ensure_worker, worker_principal
from deploy.home_secrets import new_password
from deploy.settings import KafkaSettings, LocalSettings, broker_access
from deploy.topics import ensure_topics
from producers.feed_registry import get_feed
from warehouse.schema.db import libpq_url

DATASET = "police-uk-street"


def _replay(env: dict[str, str], reason: str) -> tuple[float, str]:
    """Seconds for one `hub replay` of every partner topic, and its summary line."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "deploy.cli", "replay", "--reason", reason], env=env, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"hub replay failed ({done.returncode}): {done.stderr[-2000:]}")
    summary = [line for line in done.stderr.splitlines() if re.match(r"replay \d+: ", line)]
    return elapsed, summary[-1] if summary else done.stderr.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    settings = LocalSettings()
    shared = settings.shared_data.resolve()
    for line in local.up():
        print(line)
    csv_path = write_jittered(shared, settings.home.resolve() / "bench" / f"jittered-{args.events}.csv", args.events)
    name, url = _prepare_database(shared)
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "HUB_KAFKA_TOPIC_PREFIX": prefix, "HUB_DATABASE_URL": url}
    kafka = KafkaSettings(topic_prefix=prefix)
    ensure_topics(kafka, [kafka.partner_topic(DATASET, get_feed(DATASET).default_partner)])
    password = new_password()
    with BrokerAdmin(broker_access("admin"), client_id="bench") as admin:
        ensure_worker(admin, prefix, password)
    worker_env = {**env, "HUB_KAFKA_USERNAME": worker_principal(prefix), "HUB_KAFKA_PASSWORD": password}
    try:
        base_s = baseline(url, csv_path)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "deploy.cli", "publish", DATASET, str(csv_path)], env=env, check=True,
            capture_output=True,
        )  # fmt: skip
        print(f"filled the topic in {time.perf_counter() - started:.1f} s (hub publish, no worker running)")
        first_s, first = _replay(worker_env, "benchmark: load an empty warehouse")
        second_s, second = _replay(worker_env, "benchmark: re-derive under the same protocols")
        with psycopg.connect(libpq_url(url)) as conn:
            row = conn.execute("SELECT (SELECT count(*) FROM event), (SELECT count(*) FROM decision)").fetchone()
    finally:
        local.drop_database(name)
    n = args.events
    print(f"events: {n:,}; warehouse holds {row[0] if row else 0:,} events and {row[1] if row else 0:,} decisions")
    print(f"  {first}")
    print(f"  {second}")
    print(f"baseline  COPY + ST_Intersects update:  {base_s:8.1f} s  {n / base_s:10,.0f} rows/s")
    print(f"replay    into an empty warehouse:      {first_s:8.1f} s  {n / first_s:10,.0f} events/s  "
          f"ratio {base_s / first_s:.2f}")  # fmt: skip
    print(f"replay    over it, same protocols:      {second_s:8.1f} s  {n / second_s:10,.0f} events/s  "
          f"ratio {base_s / second_s:.2f}")  # fmt: skip
    print("(replay times are the whole `hub replay` command: start-up, geocoder load and the IG record included)")


if __name__ == "__main__":
    main()
