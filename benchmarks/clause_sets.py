"""The disclosure rule's clause sets (`justifying_sets`) from `event_clause_set` against the query it replaced, over
`event_count_district` (tests/support/aggregates.py keeps it), and the first/last month (`data_months`) beside them.

On the warehouse benchmark's database (`benchmarks/warehouse_queries.py`: built with `--events`, or reused with
`--database`), each analyst of that benchmark asks as the API asks for its ward counts and district trends: its
clauses for police.uk street crime and its scope. Both queries are checked to give the same sets, then timed in
alternating runs on one connection; p50/p95/p99/mean in ms, and the rows each reads.

    .venv/bin/hub up
    .venv/bin/python -m benchmarks.clause_sets --database qb_1m --events 1000000 [--runs 200]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from api.grants import grant_for_counts, scope_filters
from benchmarks.warehouse_queries import ANALYSTS, DATASET, Timings, add_database_arguments, bench_database, timed
from deploy.protocol_files import configured_register
from tests.support.aggregates import justifying_sets_before_0027
from warehouse.queries.aggregates import data_months, justifying_sets
from warehouse.queries.scope import ScopeFilter
from warehouse.schema.db import warehouse_engine
from warehouse.settings import WarehouseSettings

Asked = tuple[str, tuple[str, ...], tuple[ScopeFilter, ...]]  # the analyst, its refs, its scopes


def asked() -> list[Asked]:
    """Each analyst's clauses for ward counts of DATASET and its scopes, as `api.aggregate_query.resolve` has them."""
    register, today = configured_register(), datetime.now(UTC).date()
    found = []
    for org in ANALYSTS:
        grants = grant_for_counts(register, org, DATASET, "ward", False, today).grants
        refs = tuple(dict.fromkeys(str(g.ref) for g in grants))
        found.append((org, refs, scope_filters(grants, org)))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_database_arguments(parser)
    parser.add_argument("--runs", type=int, default=200, help="timed runs of each query")
    args = parser.parse_args()
    callers = asked()
    with bench_database(args.database, args.events, args.chunk, args.seed) as url:
        engine = warehouse_engine(WarehouseSettings(url=url))
        try:
            with Session(engine) as session:
                rows = session.execute(
                    text(
                        "SELECT (SELECT count(*) FROM event_clause_set WHERE dataset = :d), "
                        "(SELECT count(*) FROM event_count_district WHERE dataset = :d)"
                    ),
                    {"d": DATASET},
                ).one()
                print(f"{DATASET}: {rows[0]:,} event_clause_set rows, {rows[1]:,} event_count_district rows")
                for org, refs, scopes in callers:
                    new = sorted(justifying_sets(session, DATASET, refs, scopes))
                    old = sorted(justifying_sets_before_0027(session, DATASET, refs, scopes))
                    if new != old:
                        raise SystemExit(f"{org}: the clause sets differ: {new} against {old}")
                    print(f"{org}: {len(new)} clause sets: {new}")

                def each(call: Callable[[Session, str, tuple[str, ...], tuple[ScopeFilter, ...]], object]) -> Timings:
                    def run(i: int) -> None:
                        _, refs, scopes = callers[i % len(callers)]
                        call(session, DATASET, refs, scopes)

                    return timed(args.runs, run)

                def months(s: Session, dataset: str, refs: tuple[str, ...], scopes: tuple[ScopeFilter, ...]) -> object:
                    return data_months(s, [dataset], refs, scopes)

                timings: dict[str, list[float]] = {"before": [], "after": [], "months": []}
                for _ in range(4):  # alternating rounds, so that the machine's load falls on each alike
                    timings["before"] += each(justifying_sets_before_0027).ms
                    timings["after"] += each(justifying_sets).ms
                    timings["months"] += each(months).ms
        finally:
            engine.dispose()
    labels = {
        "before": "justifying_sets over event_count_district (before)",
        "after": "justifying_sets over event_clause_set (0027)",
        "months": "data_months (first/last month, trends)",
    }
    print(f"\n{'':55} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'runs':>6}")
    for name, ms in timings.items():
        t = Timings(ms)
        print(f"{labels[name]:55} {t.p50:8.2f} {t.p95:8.2f} {t.p99:8.2f} {t.mean:8.2f} {len(ms):6}")


if __name__ == "__main__":
    main()
