"""End-to-end throughput: `hub publish` -> Kafka -> `hub worker` -> committed in PostGIS, against baselines.

In one run, on the same jittered police.uk rows:
- baseline: COPY the CSV into a PostGIS table, then one UPDATE that assigns each point its ward (ST_Intersects);
- producer alone: `hub publish` of the file (filling the topics), against a bare kafka-python send loop of the same
  envelopes made beforehand;
- loader alone: N `hub worker` processes (--workers 1,2,4) started on the filled topics, until all is committed
  (fresh database, offsets forgotten, each time); ratio to the baseline;
- --kill-one: two workers, one SIGKILLed once half is committed: what the warehouse accounts for (loaded + withheld
  + dead letters) against what was published, and the time until the survivor commits past the kill point;
- end to end: a running worker, from the start of `hub publish` until committed;
- --stages: the loader's per-stage microseconds (benchmarks/loader_stages.py);
- --loader-run LABEL=DIR[:BATCH] (repeatable), instead of --workers: one worker per run, its code imported from the
  checkout DIR (a worktree of another commit sharing this environment) and HUB_WORKER_BATCH_SIZE=BATCH, on a
  warehouse at DIR's newest migration, the runs in the order given on the same filled topics, so that two versions
  of the loader (and its schema) can be timed alternately.

    .venv/bin/python -m benchmarks.end_to_end --events 1000000 --workers 1,2,4 --kill-one --stages
    .venv/bin/python -m benchmarks.end_to_end --events 200000 --no-end-to-end \
        --loader-run main=../main-tree --loader-run new=. --loader-run main=../main-tree --loader-run new=.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from benchmarks import ceilings, loader_stages
from benchmarks.jitter import write_jittered
from deploy import local
from deploy.broker_principals import BrokerAdmin, ensure_worker, worker_principal
from deploy.home_secrets import new_password
from deploy.lag import LagReader, wait_for_loader
from deploy.settings import KafkaSettings, LocalSettings, broker_access
from deploy.topics import ensure_topics
from producers.feed_registry import get_feed
from stream_processors.settings import loader_group
from warehouse.reference.boundaries import load_areas, read_areas
from warehouse.schema import migrate
from warehouse.schema.db import libpq_url

WARDS = "boundaries/wards_2024_bsc_epsg27700.geojson"
DATASET = "police-uk-street"


def _prepare_database(shared: Path, revision: str = "head") -> tuple[str, str]:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    url = local.create_database(name)
    migrate.upgrade(url, revision)
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


class Bench:
    """One topic prefix with its partner topic and worker principal; workers started against a database."""

    def __init__(self, partitions: int) -> None:
        self.prefix = f"bench{uuid.uuid4().hex[:8]}"
        self.kafka = KafkaSettings(topic_prefix=self.prefix, partitions=partitions)
        self.topic = self.kafka.partner_topic(DATASET, get_feed(DATASET).default_partner)
        ensure_topics(self.kafka, [self.topic])
        password = new_password()  # the bench worker's own principal, as `hub up` makes the default prefix's
        with BrokerAdmin(broker_access("admin"), client_id="bench") as admin:
            ensure_worker(admin, self.prefix, password)
        self.env = {
            **os.environ,
            "HUB_KAFKA_TOPIC_PREFIX": self.prefix,
            "HUB_KAFKA_PARTITIONS": str(partitions),
        }
        self._lag = LagReader(self.kafka)
        self.worker_env = {
            **self.env,
            "HUB_KAFKA_USERNAME": worker_principal(self.prefix),
            "HUB_KAFKA_PASSWORD": password,
        }

    def publish(self, csv_path: Path) -> float:
        """Seconds `hub publish` takes to send the file (flushed)."""
        started = time.perf_counter()
        command = [sys.executable, "-m", "deploy.cli", "publish", DATASET, str(csv_path)]
        subprocess.run(command, env=self.env, check=True, capture_output=True)
        return time.perf_counter() - started

    def workers(
        self, n: int, url: str, log_dir: Path, tree: Path | None = None, batch_size: int | None = None
    ) -> list[subprocess.Popen[bytes]]:
        """`n` workers on `url`, importing the hub's code from `tree` (default: this process's working directory)
        with HUB_WORKER_BATCH_SIZE=`batch_size` (default: as configured)."""
        started = []
        for i in range(n):
            log = (log_dir / f"bench-worker-{n}-{i}.log").open("w")
            command = [sys.executable, "-m", "deploy.cli", "worker"]  # -m: the working directory's code first
            env = {**self.worker_env, "HUB_DATABASE_URL": url}
            if batch_size is not None:
                env["HUB_WORKER_BATCH_SIZE"] = str(batch_size)
            started.append(subprocess.Popen(command, env=env, stdout=log, stderr=log, cwd=tree))
        return started

    def forget_offsets(self) -> None:
        """Delete the loader's consumer group: the next workers read the topic from its start."""
        admin = KafkaAdminClient(**broker_access("admin").kafka_python(), client_id="bench")
        try:
            admin.delete_groups([loader_group(self.prefix)])
        except KafkaError:
            pass  # no such group yet
        finally:
            admin.close()

    def lag(self) -> int:
        """Messages the loader has not committed yet, read on one pair of clients kept for the bench (not two
        sign-ins per poll beside the workers measured); a new broker's missing group coordinator waited out."""
        return self._lag.total(patience=120)

    def close(self) -> None:
        """Close the lag reader's clients."""
        self._lag.close()


def _stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.terminate()
    for worker in workers:
        try:
            worker.wait(60)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def _wait_loaded(bench: Bench, workers: list[subprocess.Popen[bytes]], timeout: float = 7200) -> None:
    lag = wait_for_loader(bench.kafka, timeout, poll=0.2)
    if lag:
        raise SystemExit(f"the workers are still {lag} behind; see the bench-worker logs")
    if any(worker.poll() is not None for worker in workers):
        raise SystemExit("a worker exited; see the bench-worker logs")


def outcomes(url: str) -> int:
    """Messages the warehouse accounts for: events loaded, events withheld (and not loaded), dead letters."""
    with psycopg.connect(libpq_url(url)) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM event) + (SELECT count(DISTINCT event_id) FROM decision d "
            "WHERE outcome = 'withheld' AND NOT EXISTS (SELECT 1 FROM event e WHERE e.event_id = d.event_id)) "
            "+ (SELECT count(*) FROM dead_letter)"
        ).fetchone()
    return int(row[0]) if row else 0


def loader_alone(
    bench: Bench,
    shared: Path,
    n_workers: int,
    published: int,
    log_dir: Path,
    tree: Path | None = None,
    batch_size: int | None = None,
) -> tuple[float, float]:
    """(seconds from starting `n_workers` workers on the filled topics (fresh database, no offsets) to all committed,
    seconds of it before the first commit: the workers' start-up, geocoder load and group join). `tree` and
    `batch_size` as `Bench.workers` takes them."""
    name, url = _prepare_database(shared, "head" if tree is None else _newest_revision(tree))
    bench.forget_offsets()
    try:
        started = time.perf_counter()
        workers = bench.workers(n_workers, url, log_dir, tree, batch_size)
        try:
            while bench.lag() >= published:
                if any(worker.poll() is not None for worker in workers):
                    raise SystemExit("a worker exited; see the bench-worker logs")
                time.sleep(0.2)
            first = time.perf_counter() - started
            _wait_loaded(bench, workers)
            return time.perf_counter() - started, first
        finally:
            _stop(workers)
    finally:
        local.drop_database(name)


def _newest_revision(tree: Path) -> str:
    """The newest migration of the checkout `tree` (by number): its code's loader runs on a warehouse at that
    revision (migrated by this checkout, whose migrations must include it)."""
    versions = (tree / "warehouse/schema/migrations/versions").glob("[0-9][0-9][0-9][0-9]_*.py")
    return max(path.name[:4] for path in versions)


def kill_one(bench: Bench, shared: Path, published: int, log_dir: Path) -> tuple[int, float, float]:
    """Two workers on the filled topic; one SIGKILLed once half is committed. Returns (messages the warehouse
    accounts for, seconds to load it all, seconds from the kill until the lag fell below what it was at the kill)."""
    name, url = _prepare_database(shared)
    bench.forget_offsets()
    try:
        started = time.perf_counter()
        workers = bench.workers(2, url, log_dir)
        try:
            while (lag := bench.lag()) > published // 2:
                time.sleep(0.2)
            workers[0].send_signal(signal.SIGKILL)
            killed = time.perf_counter()
            while 0 < bench.lag() >= lag:  # until the survivor commits past where the group was at the kill
                time.sleep(0.2)
            recovered = time.perf_counter() - killed
            _wait_loaded(bench, workers[1:])
            total = time.perf_counter() - started
        finally:
            _stop(workers)
        return outcomes(url), total, recovered
    finally:
        local.drop_database(name)


def hub(shared: Path, csv_path: Path, warmup_path: Path, log_dir: Path, partitions: int) -> tuple[float, float]:
    """(seconds from the start of `hub publish` until the worker has committed every event, seconds of the publish
    alone), with one worker already running and warmed up."""
    bench = Bench(partitions)
    name, url = _prepare_database(shared)
    workers = bench.workers(1, url, log_dir)
    try:
        bench.publish(warmup_path)
        _wait_loaded(bench, workers, 300)
        started = time.perf_counter()
        published = bench.publish(csv_path)
        _wait_loaded(bench, workers)
        return time.perf_counter() - started, published
    finally:
        _stop(workers)
        local.drop_database(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--workers", default="1", help="worker counts for the loader-alone runs, e.g. 1,2,4")
    parser.add_argument("--kill-one", action="store_true", help="also: two workers, one SIGKILLed halfway")
    parser.add_argument("--partitions", type=int, default=KafkaSettings().partitions)
    parser.add_argument("--stages", action="store_true", help="also the loader's per-stage microseconds")
    parser.add_argument("--ceilings", type=int, default=0, help="events for the no-op consumer ceilings (0: skip)")
    parser.add_argument(
        "--loader-run",
        action="append",
        default=[],
        metavar="LABEL=DIR[:BATCH]",
        help="a one-worker loader-alone run of the code in checkout DIR with HUB_WORKER_BATCH_SIZE=BATCH (repeatable;"
        " replaces --workers)",
    )
    parser.add_argument("--no-end-to-end", action="store_true", help="skip the end-to-end run")
    args = parser.parse_args()
    settings = LocalSettings()
    shared = settings.shared_data.resolve()
    work = settings.home.resolve() / "bench"
    logs = settings.logs.resolve()
    logs.mkdir(parents=True, exist_ok=True)
    for line in local.up():
        print(line)
    n = args.events
    csv_path = write_jittered(shared, work / f"jittered-{n}.csv", n)
    warmup = write_jittered(shared, work / "warmup.csv", 1000, seed=1)
    print(f"{n:,} police.uk street rows; {args.partitions} partitions per topic; load {_load()}")

    name, url = _prepare_database(shared)
    try:
        base_s = baseline(url, csv_path)
    finally:
        local.drop_database(name)
    print(f"baseline   COPY + ST_Intersects update:   {base_s:8.1f} s {n / base_s:10,.0f} rows/s")

    # The producer alone: `hub publish` fills the topics the loader-alone runs read; the bare loop sends the same
    # envelopes (made beforehand) to a topic of its own.
    bench = Bench(args.partitions)
    publish_s = bench.publish(csv_path)
    bare = ceilings.kafka_python_send(
        broker_access("admin"), _scratch_topic(args.partitions), ceilings.payloads(csv_path, n)
    )
    print(f"producer   hub publish:                   {publish_s:8.1f} s {n / publish_s:10,.0f} events/s")
    print(f"           bare kafka-python send loop:            {bare:10,.0f} msgs/s (the same envelopes, made first)")
    print(f"           ratio publish / bare:          {n / publish_s / bare:8.2f}   (target >= 0.50)")

    runs = [_loader_run(spec) for spec in args.loader_run] or [
        (f"{w} worker(s)", w, None, None) for w in [int(w) for w in args.workers.split(",")]
    ]
    for what, n_workers, tree, batch_size in runs:
        loader_s, startup_s = loader_alone(bench, shared, n_workers, n, logs, tree, batch_size)
        print(
            f"loader     {what}, filled topics -> committed: {loader_s:8.1f} s"
            f" {n / loader_s:10,.0f} events/s, ratio to baseline {base_s / loader_s:5.2f} (target >= 0.50);"
            f" after the first commit ({startup_s:.1f} s of start-up) {n / (loader_s - startup_s):,.0f} events/s,"
            f" ratio {base_s / (loader_s - startup_s):.2f}; load {_load()}"
        )

    if args.kill_one:
        accounted, total_s, recovered_s = kill_one(bench, shared, n, logs)
        print(
            f"kill -9    one of two workers at half:    {total_s:8.1f} s  committed {accounted:,} of {n:,} published"
            f" ({'equal' if accounted == n else 'NOT EQUAL'}); {recovered_s:.1f} s from the kill until the survivor"
            " committed past the kill point"
        )
    bench.close()

    if not args.no_end_to_end:
        hub_s, published_s = hub(shared, csv_path, warmup, logs, args.partitions)
        print(
            f"end to end publish -> committed:          {hub_s:8.1f} s {n / hub_s:10,.0f} events/s"
            f" (publish alone {published_s:.1f} s)"
        )

    if args.stages:
        count = min(n, 100_000)
        print(f"loader stages (CPU us per event; the sink wall time) on {count:,} of the same rows:")
        timings = loader_stages.stage_timings(
            loader_stages.messages_of(csv_path, count, "hub"),
            loader_stages.bench_geocoder(shared),
            loader_stages.packaged_register(),
            "hub",
        )
        for line in loader_stages.report(timings):
            print(f"  {line}")

    if args.ceilings:
        print(f"ceilings (no-op consumers, {args.ceilings:,} events):")
        subprocess.run([sys.executable, "-m", "benchmarks.faust_noop", "--events", str(args.ceilings)], check=True)
    print(f"load average at the end: {_load()}")


def _loader_run(spec: str) -> tuple[str, int, Path | None, int | None]:
    """`--loader-run LABEL=DIR[:BATCH]` as (what to print, workers, checkout, batch size)."""
    label, _, where = spec.partition("=")
    tree_text, _, batch_text = where.partition(":")
    tree = Path(tree_text or ".").resolve()
    if not label or not (tree / "stream_processors").is_dir():
        raise SystemExit(f"--loader-run {spec!r}: expected LABEL=DIR[:BATCH], DIR a checkout of the hub")
    commit = subprocess.run(
        ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    batch_size = int(batch_text) if batch_text else None
    return f"{label} ({commit or tree}, batch {batch_size or 'as configured'})", 1, tree, batch_size


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _scratch_topic(partitions: int) -> str:
    topic = f"bench-bare-{uuid.uuid4().hex[:8]}"
    with BrokerAdmin(broker_access("admin"), client_id="bench") as admin:
        admin.create_topics([topic], partitions)
    return topic


if __name__ == "__main__":
    main()
