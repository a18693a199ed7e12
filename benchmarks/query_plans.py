"""Where the typical analyst queries' own time goes: planning, execution, JIT, parallel workers, plan estimates, tail.

On a benchmark database (`benchmarks.warehouse_queries`' `--database`, events generated when it has none), for the
two typical queries (ward x month counts for one CSP, district trends for a county), the query layer's statement
(`count_sql`, as `count_cells` and `located_cells` send it) is run `--runs` times, varying the area, each time three
times in a row: on a connection under the server's own settings, on one of the hub's engine (`warehouse_engine`,
with its PLANNER_SETTINGS), both timed by the client (what the query layer pays; their rows must be equal), then on
the hub's under EXPLAIN (ANALYZE, TIMING OFF, SUMMARY): the server's planning and execution time, JIT compilation,
parallel workers launched, the plan's shape and its row estimates. The answers are first checked to equal the API's
and a naive GROUP BY on `event` for every area.

Printed per query: the settings that decide the plan (jit, jit_above_cost, parallel workers per gather, ...),
p50/p95/p99 of the client's time on both connections (alternated, so a busy machine weighs on both alike), of the
planning, execution and JIT time, the plans seen (node types) with the root's estimated and actual rows, the highest
plan cost against jit_above_cost, the parallel workers launched, whether the statement was prepared server-side
(psycopg prepares it after `prepare_threshold` runs of the same text) with its generic and custom plans, and the
slowest 5 % of the client's runs beside the server's execution time of the same area just after (a slow run whose
execution was not slow lost its time outside the statement).

    .venv/bin/python -m benchmarks.query_plans --database qb_1m --events 1000000 --runs 200
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from api.factory import create_app
from benchmarks.warehouse_queries import (
    Typical,
    add_database_arguments,
    analyst_areas,
    analyst_keys,
    api_answer,
    bench_database,
    layer_answer,
    naive_answer,
    typical_queries,
)
from deploy.protocol_files import configured_register
from deploy.settings import geocoder_settings
from warehouse.queries.aggregates import CountQuery, Level, count_sql
from warehouse.schema.db import warehouse_engine
from warehouse.settings import WarehouseSettings

SETTINGS = ("jit", "jit_above_cost", "max_parallel_workers_per_gather", "plan_cache_mode", "work_mem")


@dataclass(frozen=True)
class Run:
    """One run of a statement: the client's time, and the server's under EXPLAIN ANALYZE right after."""

    client_ms: float
    default_ms: float  # the same statement on a connection under the server's own settings, just before
    planning_ms: float
    execution_ms: float
    jit_ms: float
    workers: int
    shape: str  # the plan's node types, outermost first
    cost: float  # the plan's total cost
    estimated_rows: int
    actual_rows: int


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def _shape(plan: dict[str, Any]) -> str:
    names = []
    for node in _nodes(plan):
        name = node["Node Type"]
        if "Index Name" in node:
            name += f" {node['Index Name']}"
        elif "Relation Name" in node:
            name += f" {node['Relation Name']}"
        names.append(name)
    return " > ".join(names)


def explained(session: Session, sql: str, params: dict[str, Any], client_ms: float, default_ms: float) -> Run:
    """The server's account of one more run of `sql`."""
    row = session.execute(text(f"EXPLAIN (ANALYZE, TIMING OFF, SUMMARY, FORMAT JSON) {sql}"), params).scalar_one()
    found = (json.loads(row) if isinstance(row, str) else row)[0]
    plan = found["Plan"]
    jit = found.get("JIT", {}).get("Timing", {}).get("Total", 0.0)  # PostgreSQL 15: a number
    workers = sum(int(node.get("Workers Launched", 0)) for node in _nodes(plan))
    return Run(
        client_ms,
        default_ms,
        float(found["Planning Time"]),
        float(found["Execution Time"]),
        float(jit),
        workers,
        _shape(plan),
        float(plan["Total Cost"]),
        int(plan["Plan Rows"]),
        int(plan["Actual Rows"]),
    )


def statement(typical: Typical, query: CountQuery) -> tuple[str, dict[str, Any]]:
    """The statement the query layer sends for `typical` (counts: with the unlocated; trends: located only)."""
    return count_sql(query, unlocated=typical.path == "/v1/counts")


def _timed(session: Session, sql: str, params: dict[str, Any]) -> tuple[float, list[Any]]:
    started = time.perf_counter()
    rows = [tuple(r) for r in session.execute(text(sql), params)]
    return (time.perf_counter() - started) * 1000, rows


def run_typical(
    session: Session, default: Session, typical: Typical, refs: dict[tuple[Level, str], list[str]], runs: int
) -> list[Run]:
    """`runs` runs, the area varied, each on `default` (the server's settings) then on `session` (the hub's engine),
    timed by the client, then explained on `session`; the two sessions' rows must be equal."""
    found = []
    for i in range(runs):
        area_level, area, _ = typical.areas[i % len(typical.areas)]
        sql, params = statement(typical, typical.count_query(area_level, area, refs[(area_level, area)]))
        default_ms, expected = _timed(default, sql, params)
        client_ms, rows = _timed(session, sql, params)
        if rows != expected:
            raise SystemExit(f"{typical.name}, {area}: the hub engine's rows differ from the server settings' rows")
        found.append(explained(session, sql, params, client_ms, default_ms))
    return found


def _p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def report(typical: Typical, runs: list[Run], prepared: list[tuple[str, int, int]], jit_above: float) -> None:
    """Print where `runs`' time went."""
    client = [r.client_ms for r in runs]
    print(f"\n{typical.name} ({len(typical.areas)} areas, {len(runs)} runs)")
    for label, values in (
        ("client: server settings", [r.default_ms for r in runs]),
        ("client: the hub's engine", client),
        ("server: planning", [r.planning_ms for r in runs]),
        ("server: execution", [r.execution_ms for r in runs]),
        ("server: JIT", [r.jit_ms for r in runs]),
    ):
        print(f"  {label:24} p50 {_p(values, 50):7.2f}  p95 {_p(values, 95):7.2f}  p99 {_p(values, 99):7.2f} ms")
    print(f"  plan cost: max {max(r.cost for r in runs):,.0f} (jit_above_cost {jit_above:,.0f})")
    print(f"  parallel workers launched: {sum(r.workers for r in runs)} in {len(runs)} runs")
    for shape, n in Counter(r.shape for r in runs).most_common():
        sample = [r for r in runs if r.shape == shape]
        estimated = int(np.median([r.estimated_rows for r in sample]))
        actual = int(np.median([r.actual_rows for r in sample]))
        print(f"  plan x{n}: {shape}; rows estimated {estimated:,} / actual {actual:,} (medians)")
    for name, generic, custom in prepared:
        print(f"  prepared server-side as {name}: {generic} generic plans, {custom} custom plans")
    if not prepared:
        print("  not prepared server-side")
    slow = sorted(runs, key=lambda r: r.client_ms)[int(len(runs) * 0.95) :]
    print("  slowest 5 % (client ms / the server's execution ms of the same area just after): ", end="")
    print(", ".join(f"{r.client_ms:.1f}/{r.execution_ms:.1f}" for r in slow))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_database_arguments(parser)
    parser.add_argument("--runs", type=int, default=200, help="runs of each query")
    args = parser.parse_args()
    with bench_database(args.database, args.events, args.chunk, args.seed) as url:
        register = configured_register()
        warehouse = WarehouseSettings(url=url)
        engine, default_engine = warehouse_engine(warehouse), create_engine(url)
        try:
            keys = analyst_keys(url)
            typicals = typical_queries(url, analyst_areas(register, datetime.now(UTC).date()))
            refs: dict[tuple[Level, str], list[str]] = {}
            with TestClient(create_app(warehouse, register, geocoder_settings())) as client, Session(engine) as session:
                for typical in typicals:  # the clauses the API answers under, and the layer's answers checked
                    for area_level, area, org in typical.areas:
                        api, refs[(area_level, area)] = api_answer(client, typical, area_level, area, keys[org])
                        query = typical.count_query(area_level, area, refs[(area_level, area)])
                        if (
                            not api
                            == layer_answer(session, typical, query)
                            == naive_answer(session, typical, area_level, area, refs[(area_level, area)])
                        ):
                            raise SystemExit(f"{typical.name}, {area}: the API, the layer and the naive disagree")
            with Session(engine) as session, Session(default_engine) as default:
                shown = {name: session.execute(text(f"SHOW {name}")).scalar_one() for name in SETTINGS}
                print("settings on the hub's connection: " + ", ".join(f"{k}={v}" for k, v in shown.items()))
                for typical in typicals:
                    runs = run_typical(session, default, typical, refs, args.runs)
                    table = "event_count_district" if typical.path == "/v1/trends" else "event_count e"
                    prepared = [
                        (str(r[0]), int(r[1]), int(r[2]))
                        for r in session.execute(
                            text(
                                "SELECT name, generic_plans, custom_plans FROM pg_prepared_statements "
                                "WHERE statement LIKE 'SELECT area_code%' AND statement LIKE :table"
                            ),
                            {"table": f"%FROM {table} %"},
                        )
                    ]
                    report(typical, runs, prepared, float(shown["jit_above_cost"]))
        finally:
            engine.dispose()
            default_engine.dispose()


if __name__ == "__main__":
    main()
