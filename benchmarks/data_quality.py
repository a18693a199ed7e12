"""The data-quality report (/v1/dq, `hub dq`) on N generated decisions: as of now from the per-feed tables (kept by the
trigger on decision, migration 0017) against the same report worked out from `decision` itself (the baseline: a
window from the epoch, which takes the old path of four DISTINCT ON sorts over every decision).

The script makes its own database (migrated), inserts N decisions with SQL in chunks (11 feeds, about 1.25
decisions per event: a quarter of the events get a second version; decided over the last two years, so the
trigger keeps `feed_event` and the per-feed tables as the worker's loads do), analyses, checks the two reports
agree, then times each and prints p50 / p95 and the ratio. Last, what the trigger costs the loader: decisions
written in statements of about 1,000 (as the sink writes them) with the trigger disabled, then enabled.

    .venv/bin/hub up
    .venv/bin/python -m benchmarks.data_quality [--decisions 1000000] [--runs 10]
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psycopg

from deploy import local
from deploy.protocol_files import configured_register
from deploy.settings import DatabaseSettings
from sharing_protocols.decision import ProtocolRegister
from warehouse.queries.quality import feed_quality, kept_state_applies, report_json
from warehouse.schema import migrate
from warehouse.schema.db import libpq_url, session_scope

FEEDS = [
    ("police-uk-street", "police-uk"),
    ("police-records", "sussex-police"),
    ("council-asb", "eastbourne-council"),
    ("fire-incidents", "esfrs"),
    ("marac-cases", "east-sussex-marac"),
    ("probation-iom", "kss-probation"),
    ("health-admissions", "esht"),
    ("istv-ae", "esht-ae"),
    ("aggregate-returns", "change-grow-live"),
    ("police-uk-api", "essex-police"),
    ("ons-population", "ons"),
]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Events i of a chunk: feed i % 11, decided at a random moment of the last two years; a quarter decided again
# (a second version) later, before now.
INSERT = """
INSERT INTO decision (event_id, content_hash, dataset, partner, period_month, outcome, protocols, fields_dropped,
                      spatial_precision, decided_at, fields_present, fingerprint, period_end, geocoded)
SELECT e.id, v.hash, f.dataset, f.partner, date_trunc('month', e.at - interval '20 days')::date,
       CASE WHEN e.n %% 10 = 0 THEN 'withheld' ELSE 'released' END,
       CASE WHEN e.n %% 10 = 0 THEN '{}'::text[] ELSE ARRAY['p@1#c'] END, '{}', '{}', e.at + v.later,
       ARRAY['category', 'location'], md5((e.n %% 50000)::text), (e.at - interval '10 days')::date, e.n %% 7 <> 0
FROM (
    SELECT n, md5(%(seed)s || n::text)::uuid AS id, now() - random() * interval '730 days' AS at
    FROM generate_series(%(first)s::int, %(last)s::int) AS n
) AS e
JOIN (SELECT * FROM unnest(%(datasets)s::text[], %(partners)s::text[]) WITH ORDINALITY AS x(dataset, partner, k)) AS f
  ON f.k = e.n %% 11 + 1
CROSS JOIN LATERAL (
    SELECT 'v1' AS hash, interval '0' AS later
    UNION ALL SELECT 'v2', (now() - e.at) * random() WHERE e.n %% 4 = 0
) AS v
"""


def generate(url: str, decisions: int, chunk: int, seed: str = "bench", quiet: bool = False) -> int:
    """About `decisions` decisions (1.25 per event) in chunks of `chunk` events; returns how many were written."""
    events = int(decisions / 1.25)
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        for first in range(0, events, chunk):
            last = min(first + chunk, events) - 1
            params = {
                "seed": seed,
                "first": first,
                "last": last,
                "datasets": [d for d, _ in FEEDS],
                "partners": [p for _, p in FEEDS],
            }
            conn.execute(INSERT, params)
            if not quiet:
                print(f"  {last + 1:,} of {events:,} events", flush=True)
        conn.execute("VACUUM (ANALYZE) decision")
        conn.execute("VACUUM (ANALYZE) feed_event")
        row = conn.execute("SELECT count(*) FROM decision").fetchone()
    return int(row[0]) if row else 0


def _time(run: Callable[[], Any], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return times


def _p95(times: list[float]) -> float:
    return sorted(times)[max(0, round(0.95 * len(times)) - 1)]


def measure(url: str, register: ProtocolRegister, runs: int) -> None:
    now = datetime.now(UTC)
    with session_scope(url) as session:
        assert kept_state_applies(session, now, None, None), "a decision after now: the kept state would not answer"
        kept = report_json(feed_quality(session, register, now))
        scanned = report_json(feed_quality(session, register, now, since=EPOCH))
        kept.pop("since"), scanned.pop("since")
        if kept != scanned:
            raise SystemExit("the two reports differ")
        print(f"reports agree: {sum(f['events'] for f in kept['feeds']):,} events in {len(kept['feeds'])} feeds")
        baseline = _time(lambda: feed_quality(session, register, now, since=EPOCH), runs)
        hub = _time(lambda: feed_quality(session, register, now), runs)
    p50_b, p50_h = statistics.median(baseline), statistics.median(hub)
    print(f"{'report':<34} {'p50 ms':>9} {'p95 ms':>9}")
    print(f"{'baseline: worked out from decision':<34} {p50_b * 1000:>9.1f} {_p95(baseline) * 1000:>9.1f}")
    print(f"{'hub: as of now, kept per feed':<34} {p50_h * 1000:>9.1f} {_p95(hub) * 1000:>9.1f}")
    print(f"ratio baseline / hub (p50): {p50_b / p50_h:.1f}x")


def loader_cost(url: str, decisions: int) -> None:
    """What the trigger adds to writing decisions as the loader does (statements of 800 events, about 1,000
    decisions): the same number written with the trigger disabled (baseline), then enabled."""
    took = {}
    for name, state in (("baseline: trigger disabled", "DISABLE"), ("hub: trigger enabled", "ENABLE")):
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            conn.execute(f"ALTER TABLE decision {state} TRIGGER decision_feed_event")
        start = time.perf_counter()
        generate(url, decisions, 800, seed=f"{name}-{uuid.uuid4()}", quiet=True)
        took[name] = time.perf_counter() - start
    for name, seconds in took.items():
        print(f"{name:<34} {decisions / seconds:>9,.0f} decisions/s")
    print(f"ratio enabled / disabled (time): {took['hub: trigger enabled'] / took['baseline: trigger disabled']:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decisions", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=200_000, help="events per INSERT statement")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--loader-decisions", type=int, default=50_000, help="decisions written to time the trigger")
    parser.add_argument(
        "--database", help="use (and keep) this database; decisions are generated only when it has none"
    )
    args = parser.parse_args()
    for line in local.up():
        print(line)
    server = DatabaseSettings().url
    name = args.database or f"bench_{uuid.uuid4().hex[:8]}"
    url = local.create_database(name, server)
    try:
        migrate.upgrade(url)
        with psycopg.connect(libpq_url(url)) as conn:
            held = conn.execute("SELECT EXISTS (SELECT 1 FROM decision)").fetchone()
        if held and held[0]:
            print(f"database {name} already holds decisions; not generating")
        else:
            start = time.perf_counter()
            written = generate(url, args.decisions, args.chunk)
            took = time.perf_counter() - start
            print(f"{written:,} decisions written (the trigger keeping the per-feed tables) in {took:.1f} s")
        measure(url, configured_register(), args.runs)
        loader_cost(url, args.loader_decisions)
    finally:
        if args.database is None:
            local.drop_database(name, server)


if __name__ == "__main__":
    main()
