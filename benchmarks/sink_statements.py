"""The warehouse write statement by statement: database time per event on real batches, triggers apart.

Jittered police.uk rows (`benchmarks/jitter.py`) go through the loader's batch path (decode, geocode, decide,
shape) in batches of `--batch`; each batch is then written by a `WarehouseSink` whose statements run under
`EXPLAIN (ANALYZE, FORMAT JSON)`: a statement's own time is its execution time less its triggers', and each
statement trigger (`event_count_*`, `decision_feed_event`) is reported on its own line. The COPYs into staging and
the round trips between statements are the rest of the write's wall time ("copy and round trips"). EXPLAIN's
instrumentation adds some time to every statement; compare lines of one run, not with `loader_stages`.

Each path writes to its own fresh, migrated database of the local stack: `new` is the sink as it is (a batch none
of whose events has an earlier decision goes in with one insert), `old` forces the stored-version path of every
batch on a warehouse migrated only to `--old-revision` (the sink and schema before the new-events insert and
migration 0026). `--redeliver` then writes the same batches again (every event
stored: the stored-version path for both); with `--replay` it writes them as `hub replay` does, its decisions recorded
anew under a replay id (a `replay_run` row) beside the first pass's instead of deduplicated against them.

`--triggers` asks instead whether the two statement triggers' work would cost less done beside the write than in
triggers: the last batch's event and decision rows (taken from a database that loaded every batch) are inserted
into one that loaded all but the last, in rounds each rolled back, (a) with the triggers, (b) with the triggers
disabled and their own statements (migrations 0017 and 0022) run on the same rows after the inserts, as the
sink would run them from its staged batch, and (c) with no aggregate at all, the floor.

    .venv/bin/hub up
    .venv/bin/python -m benchmarks.sink_statements --events 50000 [--batch 5000] [--paths new,old] [--redeliver]
    .venv/bin/python -m benchmarks.sink_statements --events 50000 --batch 20000 --paths new --redeliver --replay
    .venv/bin/python -m benchmarks.sink_statements --events 20000 --triggers [--rounds 4]
    .venv/bin/python -m benchmarks.sink_statements --events 20000 --plans [--rounds 4]

`--plans` says where each trigger statement's time goes: on the same two databases as `--triggers`, the
statements (event_count's, and the data-quality one as 0017 and as 0030 wrote it, alternated in each round) run
over the last batch's rows under `EXPLAIN (ANALYZE, BUFFERS)`, each round rolled back, and each plan node's own
time (its time less its children's) is summed by node (its type and relation or CTE). `--revision` migrates the
`new` path's warehouse to an earlier revision (e.g. 0029, before 0030's trigger) to compare with head.
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast

import psycopg

from benchmarks.loader_stages import AT, bench_geocoder, messages, packaged_register
from deploy.settings import LocalSettings
from stream_processors import batch
from stream_processors.batch import BatchResult
from stream_processors.loader import write_batch
from warehouse.governance.replays import ReplayScope, start_replay
from warehouse.schema.db import libpq_url, session_scope
from warehouse.sink import Step, WarehouseSink


class ProfilingSink(WarehouseSink):
    """A sink whose statements run under EXPLAIN ANALYZE, their times (ms) added to `ms` by statement and trigger."""

    def __init__(self, url: str, stored_path: bool, replay_id: int | None = None) -> None:
        super().__init__(url, replay_id)
        self.stored_path = stored_path  # take the stored-version path for every batch
        self.ms: dict[str, float] = defaultdict(float)

    def _upsert(self, cur: psycopg.Cursor[Any], new: bool) -> bool:
        return super()._upsert(cur, new and not self.stored_path)

    def _steps(self, cur: psycopg.Cursor[Any], steps: Sequence[Step]) -> None:
        for name, sql in steps:
            self._execute(cur, name, sql, ())

    def _fetch(self, cur: psycopg.Cursor[Any], name: str, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        started = time.perf_counter()  # its rows are needed: timed, not under EXPLAIN
        rows = super()._fetch(cur, name, sql, params)
        self.ms[name] += (time.perf_counter() - started) * 1000
        return rows

    def _execute(self, cur: psycopg.Cursor[Any], name: str, sql: str, params: Sequence[object]) -> None:
        row = cur.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params or None).fetchone()
        assert row is not None
        plan = cast(list[dict[str, Any]], row[0] if not isinstance(row[0], str) else json.loads(row[0]))[0]
        triggers = 0.0
        for trigger in plan.get("Triggers", []):
            self.ms[f"  trigger {trigger['Trigger Name']}"] += trigger["Time"]
            triggers += trigger["Time"]
        self.ms[name] += plan["Execution Time"] - triggers


def _write(sink: WarehouseSink, result: BatchResult) -> None:
    write_batch(sink, result)  # as the worker writes it, its COPY text made with the rows


def _replay_run(url: str) -> int:
    """The IG record `hub replay` opens first (`start_replay`), for the benchmark's replayed pass; its id."""
    with session_scope(url) as session:
        reason = "benchmark: sink_statements --replay"
        return start_replay(session, reason, ReplayScope(None, None), {}, "benchmark", [])


def profile(
    url: str, results: Sequence[BatchResult], stored_path: bool, passes: int, replay: bool = False
) -> list[dict[str, float]]:
    """Each pass's milliseconds by statement (and trigger, and the wall time of the whole write) over `results`;
    with `replay`, every pass after the first writes as `hub replay` does (its decisions under a replay id)."""
    out: list[dict[str, float]] = []
    sink = ProfilingSink(url, stored_path)
    try:
        for n in range(passes):
            if n == 1 and replay:
                sink.close()
                sink = ProfilingSink(url, stored_path, _replay_run(url))
            sink.ms = defaultdict(float)
            started = time.perf_counter()
            for result in results:
                _write(sink, result)
            wall = (time.perf_counter() - started) * 1000
            sink.ms["copy and round trips"] = wall - sum(sink.ms.values())
            sink.ms["write (wall)"] = wall
            out.append(dict(sink.ms))
    finally:
        sink.close()
    return out


def _copied_out(conn: psycopg.Connection[Any], sql: str) -> bytes:
    out = bytearray()
    with conn.cursor().copy(f"COPY ({sql}) TO STDOUT") as copy:
        for block in copy:
            out += block
    return bytes(out)


def _trigger_statements() -> dict[str, str]:
    """The statements the event_count insert trigger (0022) and the data-quality trigger (0017, and 0030's one
    pass) run, over tables named as their transition tables (`new_rows`, `added`)."""
    counts = importlib.import_module("warehouse.schema.migrations.versions.0022_district_counts")
    quality = importlib.import_module("warehouse.schema.migrations.versions.0017_feed_events")
    one_pass = importlib.import_module("warehouse.schema.migrations.versions.0030_feed_event_one_pass")
    body = counts._function("hub_event_count_added", counts.ADDED).split("BEGIN\n", 1)[1]
    return {
        "event_count": body.split(";\n    RETURN NULL")[0],
        "data quality (0017)": quality._merge("added"),
        "data quality (0030)": one_pass.merge("added"),
    }


@contextmanager
def _last_batch(results: Sequence[BatchResult]) -> Iterator[tuple[psycopg.Connection[Any], bytes, bytes]]:
    """A connection to a warehouse that loaded all batches but the last, with empty `new_rows` and `added` tables
    shaped as `event` and `decision`, and the last batch's event and decision rows (COPY text) as a warehouse that
    loaded every batch stored them."""
    from deploy import local
    from warehouse.schema import migrate

    tag = uuid.uuid4().hex[:8]
    names = {"all": f"bench_trig_all_{tag}", "before": f"bench_trig_before_{tag}"}
    urls = {k: local.create_database(name) for k, name in names.items()}
    try:
        for k, url in urls.items():
            migrate.upgrade(url)
            sink = WarehouseSink(url)
            for result in results if k == "all" else results[:-1]:
                _write(sink, result)
            sink.close()
        with (
            psycopg.connect(libpq_url(urls["all"])) as source,
            psycopg.connect(libpq_url(urls["before"])) as conn,
        ):
            last = cast(tuple[int], conn.execute("SELECT max(id) FROM decision").fetchone())[0]
            ids = ", ".join(f"'{e.event_id}'" for e in results[-1].events)
            events = _copied_out(source, f"SELECT * FROM event WHERE event_id IN ({ids})")
            decisions = _copied_out(source, f"SELECT * FROM decision WHERE id > {last}")
            conn.execute("CREATE TEMP TABLE new_rows AS SELECT * FROM event WITH NO DATA")
            conn.execute("CREATE TEMP TABLE added AS SELECT * FROM decision WITH NO DATA")
            conn.commit()
            yield conn, events, decisions
    finally:
        for name in names.values():
            local.drop_database(name)


def _fill(cur: psycopg.Cursor[Any], events: bytes, decisions: bytes) -> None:
    for table, data in (("new_rows", events), ("added", decisions)):
        with cur.copy(f"COPY {table} FROM STDIN") as copy:
            copy.write(data)


def triggers_beside(results: Sequence[BatchResult], rounds: int) -> dict[str, list[float]]:
    """Seconds of inserting the last batch's rows, per round: with the triggers, with their statements run beside,
    with neither (see the module's note)."""
    spent: dict[str, list[float]] = {"triggers": [], "beside": [], "none": []}
    statements = _trigger_statements()
    counts, quality = statements["event_count"], statements["data quality (0030)"]
    with _last_batch(results) as (conn, events, decisions):
        for _ in range(rounds):
            for mode in spent:
                with conn.cursor() as cur:
                    _fill(cur, events, decisions)
                    if mode != "triggers":
                        cur.execute("ALTER TABLE event DISABLE TRIGGER event_count_insert")
                        cur.execute("ALTER TABLE decision DISABLE TRIGGER decision_feed_event")
                    started = time.perf_counter()
                    cur.execute("INSERT INTO event SELECT * FROM new_rows")
                    cur.execute("INSERT INTO decision SELECT * FROM added")
                    if mode == "beside":
                        cur.execute(counts)
                        cur.execute(quality)
                    spent[mode].append(time.perf_counter() - started)
                conn.rollback()
    return spent


def _node_label(node: dict[str, Any]) -> str:
    """A plan node as one line: its type, and the relation, index or CTE it reads or writes."""
    what = node.get("Relation Name") or node.get("CTE Name") or ""
    if "Index Name" in node:
        what = f"{what} via {node['Index Name']}"
    operation = f"{node['Operation']} " if node["Node Type"] == "ModifyTable" else ""
    return f"{operation}{node['Node Type']} {what}".rstrip()


def _own_times(node: dict[str, Any], into: dict[str, float]) -> None:
    """Add each node's own time (ms: its actual total time times its loops, less its children's) to `into`."""
    children = node.get("Plans", [])
    spent = node.get("Actual Total Time", 0.0) * node.get("Actual Loops", 1)
    own = spent - sum(c.get("Actual Total Time", 0.0) * c.get("Actual Loops", 1) for c in children)
    into[_node_label(node)] += max(own, 0.0)
    for child in children:
        _own_times(child, into)


def trigger_plans(results: Sequence[BatchResult], rounds: int) -> dict[str, dict[str, list[float]]]:
    """Per trigger statement, each plan node's own milliseconds per round (see the module's note), with the
    statement's execution time as "statement (execution)"."""
    statements = _trigger_statements()
    spent: dict[str, dict[str, list[float]]] = {name: defaultdict(list) for name in statements}
    with _last_batch(results) as (conn, events, decisions):
        for _ in range(rounds):
            for name, sql in statements.items():
                with conn.cursor() as cur:
                    _fill(cur, events, decisions)
                    row = cur.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}").fetchone()
                    assert row is not None
                    plan = cast(list[dict[str, Any]], row[0] if not isinstance(row[0], str) else json.loads(row[0]))[0]
                    own: dict[str, float] = defaultdict(float)
                    _own_times(plan["Plan"], own)
                    own["statement (execution)"] = plan["Execution Time"]
                    for label, ms in own.items():
                        spent[name][label].append(ms)
                conn.rollback()
    return spent


def report(columns: dict[str, dict[str, float]], events: int) -> list[str]:
    """A table of microseconds per event: one line per statement, one column per run."""
    names = sorted({n for ms in columns.values() for n in ms if n != "write (wall)"}, key=lambda n: n.strip())
    lines = [f"{'statement':40}" + "".join(f"{label:>18}" for label in columns)]
    for name in [*names, "write (wall)"]:
        cells = "".join(f"{ms[name] / events * 1000:18.1f}" if name in ms else f"{'':>18}" for ms in columns.values())
        lines.append(f"{name:40}{cells}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--paths", default="new,old", help="new (the sink as it is), old (stored-version path)")
    parser.add_argument("--redeliver", action="store_true", help="write the same batches a second time")
    parser.add_argument("--replay", action="store_true", help="with --redeliver: the second time as `hub replay` does")
    parser.add_argument("--triggers", action="store_true", help="the triggers' work in triggers or beside")
    parser.add_argument("--plans", action="store_true", help="where each trigger statement's time goes")
    parser.add_argument("--rounds", type=int, default=4, help="rounds of --triggers or --plans")
    parser.add_argument("--old-revision", default="0024", help="the revision the old path's warehouse is at")
    parser.add_argument("--revision", default="head", help="the revision the new path's warehouse is at")
    args = parser.parse_args()
    from deploy import local
    from warehouse.schema import migrate

    settings = LocalSettings()
    shared = settings.shared_data.resolve()
    msgs = messages(shared, settings.home.resolve() / "bench", args.events, "hub")
    geocoder, register = bench_geocoder(shared), packaged_register()
    memo = batch.memo_for(register, AT, None)
    at: datetime = AT
    results = [
        batch.process(msgs[i : i + args.batch], geocoder, "hub", register, at, memo)
        for i in range(0, len(msgs), args.batch)
    ]
    loaded = sum(len(r.events) for r in results)
    for line in local.up():
        print(line)
    if args.plans:
        count = len(results[-1].events)
        print(f"the last batch of {args.batch:,} ({count:,} events): each plan node's own time, us per event, ")
        print(f"median of {args.rounds} rounds (EXPLAIN ANALYZE):")
        for statement, nodes in trigger_plans(results, args.rounds).items():
            print(statement)
            ranked = sorted(nodes.items(), key=lambda item: -statistics.median(item[1]))
            for label, ms in ranked:
                if statistics.median(ms) / count * 1000 >= 0.5 or label.startswith("statement"):
                    print(f"  {label:70} {statistics.median(ms) / count * 1000:8.1f}")
        return
    if args.triggers:
        spent = triggers_beside(results, args.rounds)
        count = len(results[-1].events)
        print(f"the last batch of {args.batch:,} ({count:,} events), us per event, median of {args.rounds} rounds:")
        for mode, seconds in spent.items():
            every = ", ".join(f"{s / count * 1e6:.0f}" for s in seconds)
            print(f"{mode:10} {statistics.median(seconds) / count * 1e6:8.1f}   ({every})")
        return
    columns: dict[str, dict[str, float]] = {}
    for path in args.paths.split(","):
        name = f"bench_sink_{path}_{uuid.uuid4().hex[:8]}"
        url = local.create_database(name)
        try:
            migrate.upgrade(url, args.old_revision if path == "old" else args.revision)
            passes = profile(url, results, path == "old", 2 if args.redeliver else 1, args.replay)
        finally:
            local.drop_database(name)
        columns[path] = passes[0]
        if args.redeliver:
            columns[f"{path} {'replayed' if args.replay else 'redelivered'}"] = passes[1]
    print(f"{args.events:,} police.uk rows in batches of {args.batch:,}: {loaded:,} events loaded")
    print("database time per event (us), from EXPLAIN ANALYZE; triggers apart from their statement:")
    for line in report(columns, args.events):
        print(line)


if __name__ == "__main__":
    main()
