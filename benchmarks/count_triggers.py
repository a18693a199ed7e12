"""Write cost of the `event_count` triggers: adding events to a warehouse migrated up to a revision against head.

Two databases are made on the same server: one migrated only up to `--before` (default 0021: `event_count` alone
kept by the statement triggers), one to head (0022: `event_count` and `event_count_district` kept by one grouped
read per statement). Each gets the same references and `--base` generated events (benchmarks/generated_events.py,
as benchmarks/warehouse_queries.py writes them), is vacuumed and analysed, and then the same `--add` events are
added to each in statements of `--batch` events (the worker's default batch: 5,000), in alternating rounds so
that the machine's load falls on both alike. Printed: seconds, events/s and microseconds per event for each, and
the ratio head / before. A third timing adds the same events to the head database's twin with the count triggers
disabled, as the floor: what inserting the rows costs without any aggregate.

    .venv/bin/hub up
    .venv/bin/python -m benchmarks.count_triggers [--base 1000000] [--add 200000] [--batch 5000]
"""

from __future__ import annotations

import argparse
import uuid
from datetime import UTC, datetime

import psycopg

from benchmarks.generated_events import EventGenerator, forces_wards
from benchmarks.warehouse_queries import FIRST_MONTH, FORCES, LOOKUP_VINTAGE, MONTHS, dataset_mix, prepare_references
from deploy import local
from deploy.protocol_files import configured_register
from deploy.settings import DatabaseSettings, LocalSettings
from warehouse.schema import migrate
from warehouse.schema.db import libpq_url

TRIGGERS = ("event_count_insert", "event_count_update", "event_count_delete")


def _generator(url: str, seed: int) -> EventGenerator:
    wards = forces_wards(url, LOOKUP_VINTAGE, FORCES)
    return EventGenerator(
        tuple(wards), dataset_mix(configured_register(), datetime.now(UTC).date()), FIRST_MONTH, MONTHS, seed
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default="0021", help="the revision to compare head against")
    parser.add_argument("--base", type=int, default=1_000_000, help="events already in the warehouse")
    parser.add_argument("--add", type=int, default=200_000, help="events added and timed")
    parser.add_argument("--batch", type=int, default=5_000, help="events per INSERT statement while timed")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds the added events are split into")
    parser.add_argument("--seed", type=int, default=2019)
    args = parser.parse_args()
    shared = LocalSettings().shared_data.resolve()
    for line in local.up():
        print(line)
    server = DatabaseSettings().url
    tag = uuid.uuid4().hex[:8]
    names = {"before": f"ct_before_{tag}", "head": f"ct_head_{tag}", "no triggers": f"ct_none_{tag}"}
    urls: dict[str, str] = {}
    try:
        for label, name in names.items():
            url = urls[label] = local.create_database(name, server)
            migrate.upgrade(url, args.before if label == "before" else "head")
            prepare_references(url, shared)
            with psycopg.connect(libpq_url(url), autocommit=True) as conn:
                elapsed = _generator(url, args.seed).write(conn, args.base, 500_000)
                print(f"{label}: {args.base:,} events in {elapsed:.1f} s", flush=True)
                conn.execute("VACUUM (ANALYZE)")
                if label == "no triggers":
                    for trigger in TRIGGERS:
                        conn.execute(f"ALTER TABLE event DISABLE TRIGGER {trigger}")
        spent = dict.fromkeys(names, 0.0)
        per_round = args.add // args.rounds
        for n in range(args.rounds):
            start = args.base + n * per_round
            for label, url in urls.items():
                with psycopg.connect(libpq_url(url), autocommit=True) as conn:
                    spent[label] += _generator(url, args.seed).write(conn, per_round, args.batch, start)
        added = per_round * args.rounds
        print(f"\nadding {added:,} events to {args.base:,}, {args.batch:,} per statement ({args.rounds} rounds):")
        for label, seconds in spent.items():
            rate, per_event = added / seconds, seconds / added * 1e6
            print(f"  {label:12} {seconds:8.1f} s {rate:10,.0f} events/s {per_event:8.1f} us/event")
        floor = spent["no triggers"]
        for label in ("before", "head"):
            share = (spent[label] - floor) / added * 1e6
            print(f"  triggers at {label}: {share:.1f} us/event ({share / (spent[label] / added * 1e6):.0%} of it)")
        print(f"  ratio head / before: {spent['head'] / spent['before']:.3f}")
    finally:
        for name in names.values():
            local.drop_database(name, server)


if __name__ == "__main__":
    main()
