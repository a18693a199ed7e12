"""End-to-end throughput: `hub publish` -> Kafka -> `hub worker` -> committed in PostGIS, against a baseline.

The baseline, on the same rows in the same run: COPY the CSV into a PostGIS table, then one UPDATE that
assigns each point its ward with ST_Intersects against the same ward polygons. Prints rows/s for both and
the ratio (target: the hub at least half the baseline).

    .venv/bin/python benchmarks/end_to_end.py [--events 1000000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg

from benchmarks import ceilings
from benchmarks.jitter import write_jittered
from deploy import local
from deploy.broker_principals import BrokerAdmin, ensure_worker, worker_principal
from deploy.home_secrets import new_password
from deploy.lag import wait_for_loader
from deploy.settings import KafkaSettings, LocalSettings, broker_access
from deploy.topics import ensure_topics
from producers.feed_registry import get_feed
from warehouse.reference.boundaries import load_areas, read_areas
from warehouse.schema import migrate
from warehouse.schema.db import libpq_url

WARDS = "boundaries/wards_2024_bsc_epsg27700.geojson"


def _prepare_database(shared: Path) -> tuple[str, str]:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    url = local.create_database(name)
    migrate.upgrade(url)
    load_areas(read_areas(shared / WARDS, "ward_code", "ward_name"), "wards-2024", "ward", url)
    return name, url


def baseline(url: str, csv_path: Path) -> float:
    """Seconds for COPY + one ST_Intersects ward update of every row."""
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE baseline (crime_id text, month text, reported_by text, falls_within text, "
            "longitude float8, latitude float8, location text, lsoa_code text, lsoa_name text, crime_type text, "
            "last_outcome text, context text, ward_code text)"
        )
        started = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY baseline (crime_id, month, reported_by, falls_within, longitude, latitude, location, lsoa_code, "
                "lsoa_name, crime_type, last_outcome, context) FROM STDIN WITH (FORMAT csv, HEADER true)"
            ) as copy,
            csv_path.open("rb") as handle,
        ):
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        conn.execute(
            "UPDATE baseline b SET ward_code = a.code FROM area a WHERE a.vintage = 'wards-2024' AND "
            "ST_Intersects(a.geom, ST_Transform(ST_SetSRID(ST_MakePoint(b.longitude, b.latitude), 4326), 27700))"
        )
        return time.perf_counter() - started


def hub(url: str, csv_path: Path, warmup_path: Path, log_dir: Path) -> float:
    """Seconds from the start of `hub publish` until the worker has committed every event."""
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "HUB_KAFKA_TOPIC_PREFIX": prefix, "HUB_DATABASE_URL": url}
    kafka = KafkaSettings(topic_prefix=prefix)  # the broker of HUB_KAFKA_BOOTSTRAP, else the embedded one
    ensure_topics(kafka, [kafka.partner_topic("police-uk-street", get_feed("police-uk-street").default_partner)])
    password = new_password()  # the bench worker's own principal, as `hub up` makes the default prefix's
    with BrokerAdmin(broker_access("admin"), client_id="bench") as admin:
        ensure_worker(admin, prefix, password)
    worker_env = {**env, "HUB_KAFKA_USERNAME": worker_principal(prefix), "HUB_KAFKA_PASSWORD": password}
    with (log_dir / "bench-worker.log").open("w") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "deploy.cli", "worker"], env=worker_env, stdout=log, stderr=log
        )
        try:
            publish = [sys.executable, "-m", "deploy.cli", "publish", "police-uk-street"]
            subprocess.run([*publish, str(warmup_path)], env=env, check=True, capture_output=True)
            if wait_for_loader(kafka, 120):
                raise SystemExit("the worker did not load the warm-up batch; see bench-worker.log")
            started = time.perf_counter()
            subprocess.run([*publish, str(csv_path)], env=env, check=True, capture_output=True)
            published = time.perf_counter() - started
            lag = wait_for_loader(kafka, 3600, poll=0.2)
            elapsed = time.perf_counter() - started
            if lag:
                raise SystemExit(f"the worker is still {lag} behind")
            print(f"  (publish alone took {published:.1f}s)")
            return elapsed
        finally:
            worker.terminate()
            worker.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--ceilings", type=int, default=200_000, help="events for the library ceilings (0: skip)")
    args = parser.parse_args()
    settings = LocalSettings()
    shared = settings.shared_data.resolve()
    work = settings.home.resolve() / "bench"
    for line in local.up():
        print(line)
    csv_path = write_jittered(shared, work / f"jittered-{args.events}.csv", args.events)
    warmup = write_jittered(shared, work / "warmup.csv", 1000, seed=1)
    name, url = _prepare_database(shared)
    try:
        base_s = baseline(url, csv_path)
        hub_s = hub(url, csv_path, warmup, settings.logs.resolve())
        with psycopg.connect(libpq_url(url)) as conn:
            loaded = conn.execute("SELECT count(*) FROM event").fetchone()
    finally:
        local.drop_database(name)
    n = args.events
    print(f"events: {n:,} (warehouse now holds {loaded[0] if loaded else 0:,} including 1,000 warm-up)")
    print(f"baseline  COPY + ST_Intersects update: {base_s:8.1f} s  {n / base_s:10,.0f} rows/s")
    print(f"hub       publish -> committed:        {hub_s:8.1f} s  {n / hub_s:10,.0f} events/s")
    print(f"ratio     hub / baseline:              {base_s / hub_s:8.2f}  (target >= 0.50)")
    if args.ceilings:
        send, consume = ceilings.run(
            broker_access("admin"), csv_path, min(args.ceilings, n), KafkaSettings().partitions
        )
        print(f"ceiling   bare kafka-python send loop: {send:10,.0f} msgs/s   (same payloads, idempotent, acks=all)")
        print(f"ceiling   no-op faust agent:           {consume:10,.0f} events/s (take_events, same topic settings)")


if __name__ == "__main__":
    main()
