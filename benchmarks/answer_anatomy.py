"""Where a `/v1/counts` answer's time goes (ward x month, one CSP, 36 months), part by part, through the API
(FastAPI TestClient): each part is timed around its function where the API calls it (wall clock, and the thread's
CPU for the parts run in one thread), the statements sent to PostgreSQL are counted and timed by kind (SQLAlchemy's
cursor events; the pool's ping, commits and rollbacks at the dialect), and the garbage collector's pauses
(`gc.callbacks`).

```sh
.venv/bin/python -m benchmarks.answer_anatomy --database qb_1m --events 1000000 --runs 30
```

Repeated answers: each area is asked once first (not timed), then `--runs` times in turn. First answers: the same
query over 36-month windows starting in 2021 (one the organisation was not given before: the digest's probe misses
and the differencing guard runs); a window already released by an earlier run of this script is a repeat and is
counted apart. Parts are nested (indented) under the part that calls them; "(the rest)" is the parent's time not in
its timed children. The timing wrappers cost about a microsecond a call (`canonical` is called once per figure).
"""

from __future__ import annotations

import argparse
import gc
import inspect
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import fastapi.concurrency
import fastapi.dependencies.utils
import fastapi.routing
import numpy as np
import starlette.responses
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

import api.aggregate_query
import api.auth
import api.edge
import api.released_figures
import api.reply
import api.services.counts
import warehouse.governance.access_log
from api.factory import create_app
from benchmarks.warehouse_queries import (
    add_database_arguments,
    analyst_areas,
    analyst_keys,
    bench_database,
    typical_queries,
)
from deploy.protocol_files import configured_register
from deploy.settings import geocoder_settings
from sharing_protocols.periods import add_months
from warehouse.settings import WarehouseSettings

RF = api.released_figures
SC = api.services.counts
# (depth, label, owner, attribute): the functions timed where the API calls them, in the order they run
PARTS: tuple[tuple[int, str, Any, str], ...] = (
    (0, "FastAPI: solve the dependencies", fastapi.routing, "solve_dependencies"),
    (1, "auth: verify_key (key check, last_used_at)", api.auth, "verify_key"),
    (0, "FastAPI: run the route (threadpool hop)", fastapi.routing, "run_endpoint_function"),
    (1, "the service `counts`", SC, "counts"),
    (2, "resolve (grants, rule)", SC, "resolve"),
    (3, "clause sets (`justifying_sets`)", api.aggregate_query, "justifying_sets"),
    (2, "the query (`count_cells`)", SC, "count_cells"),
    (2, "period_table", SC, "period_table"),
    (2, "disclosure control (`protect_cells`)", SC, "protect_cells"),
    (2, "Recorder.__call__", RF.Recorder, "__call__"),
    (3, "released_figures", RF, "released_figures"),
    (3, "Recorder._guarded", RF.Recorder, "_guarded"),
    (4, "at_base", RF, "at_base"),
    (4, "canonical (per figure)", RF, "canonical"),
    (4, "digest", RF, "digest"),
    (4, "the probe (`repeated`)", RF, "repeated"),
    (4, "shown_alike", RF, "shown_alike"),
    (4, "categories_asked", RF, "categories_asked"),
    (4, "earlier_figures", RF, "earlier_figures"),
    (4, "guard", RF, "guard"),
    (3, "withhold", RF, "withhold"),
    (2, "area_names", SC, "area_names"),
    (2, "Recorder.record (digest of all)", RF.Recorder, "record"),
    (2, "count_answer", SC, "count_answer"),
    (1, "reply: render", api.reply, "render"),
    (0, "FastAPI: response model (validate + dump_json)", fastapi.routing, "serialize_response"),
    (0, "JSONResponse.render", starlette.responses.JSONResponse, "render"),
    (0, "access and release record (`write_access`)", api.edge, "write_access"),
    (1, "of which the release record rows", warehouse.governance.access_log, "_record_released"),
)
_local = threading.local()


class Anatomy:
    """One request's milliseconds per part (wall, CPU), statements by kind and GC pauses."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.sql: dict[str, list[float]] = defaultdict(list)
        self.gc_ms = 0.0
        self.hops: list[float] = []  # each threadpool call's ms not in its function: there and back

    def add(self, label: str, wall: float, cpu: float | None) -> None:
        self.wall[label] += wall
        if cpu is not None:
            self.cpu[label] += cpu
        self.calls[label] += 1


class Recording:
    """Where the parts' times go: the current request's Anatomy (None: not recording)."""

    def __init__(self) -> None:
        self.now: Anatomy | None = None


def _wrap(rec: Recording, label: str, original: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(original):

        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                if rec.now is not None:
                    rec.now.add(label, (time.perf_counter() - started) * 1000, None)

        return timed_async

    def timed(*args: Any, **kwargs: Any) -> Any:
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return original(*args, **kwargs)
        finally:
            if rec.now is not None:
                rec.now.add(label, (time.perf_counter() - started) * 1000, (time.thread_time() - cpu) * 1000)

    return timed


_KINDS = (
    ("set_config (statement timeout)", re.compile(r"set_config\('statement_timeout'", re.I)),
    ("api key select/update", re.compile(r"\bapi_key\b", re.I)),
    ("access record insert", re.compile(r"insert into access_log", re.I)),
    ("release record", re.compile(r"\b(released_|release_)\w*", re.I)),
    ("area names", re.compile(r"\bname\b.*from\s+\w*(ward|area)", re.I | re.S)),
)


def _kind(statement: str) -> str:
    for kind, pattern in _KINDS:
        if pattern.search(statement):
            return kind
    words = statement.split()
    return "other: " + " ".join(words[:4])[:50]


def _hopping(rec: Recording, original: Callable[..., Any]) -> Callable[..., Any]:
    """`run_in_threadpool` recording the time of each hop there and back (not the function's own)."""

    async def hop(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        inside: list[float] = []

        def run() -> Any:
            inside.append(time.perf_counter())
            try:
                return func(*args, **kwargs)
            finally:
                inside.append(time.perf_counter())

        started = time.perf_counter()
        try:
            return await original(run)
        finally:
            if rec.now is not None and len(inside) == 2:
                rec.now.hops.append((inside[0] - started + time.perf_counter() - inside[1]) * 1000)

    return hop


# the modules calling `run_in_threadpool` (a generator dependency's exit hops by anyio, not counted)
HOPPERS: tuple[Any, ...] = (fastapi.concurrency, fastapi.dependencies.utils, fastapi.routing, api.edge)


@contextmanager
def instrumented(rec: Recording, engine: Engine) -> Iterator[None]:
    """The PARTS wrapped, the engine's statements and the GC's pauses recorded into `rec.now`."""
    undo = []
    for _, label, owner, name in PARTS:
        original = owner.__dict__.get(name) if isinstance(owner, type) else getattr(owner, name, None)
        if original is None:
            continue
        setattr(owner, name, _wrap(rec, label, original))
        undo.append((owner, name, original))
    for module in HOPPERS:
        original = module.run_in_threadpool
        module.run_in_threadpool = _hopping(rec, original)
        undo.append((module, "run_in_threadpool", original))

    def before(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        _local.started = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        if rec.now is not None:
            rec.now.sql[_kind(statement)].append((time.perf_counter() - _local.started) * 1000)

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    dialect: Any = engine.dialect
    dialect_undo = []
    for name in ("do_ping", "do_commit", "do_rollback"):
        original = getattr(dialect, name)

        def timed(*args: Any, _name: str = name, _original: Callable[..., Any] = original) -> Any:
            started = time.perf_counter()
            try:
                return _original(*args)
            finally:
                if rec.now is not None:
                    rec.now.sql[f"dialect {_name}"].append((time.perf_counter() - started) * 1000)

        setattr(dialect, name, timed)
        dialect_undo.append(name)
    paused: list[float] = []

    def collector(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            paused.append(time.perf_counter())
        elif paused and rec.now is not None:
            rec.now.gc_ms += (time.perf_counter() - paused.pop()) * 1000

    gc.callbacks.append(collector)
    try:
        yield
    finally:
        gc.callbacks.remove(collector)
        for name in dialect_undo:
            delattr(dialect, name)
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
        for owner, name, original in undo:
            setattr(owner, name, original)


def report(title: str, whole: list[float], cpu: list[float], runs: list[Anatomy]) -> None:
    """The table of ms per part (p50 and mean over `runs`), nested, with the rest of each parent."""
    n = len(runs)
    print(f"\n{title}: {n} answers")
    print(f"  {'part':62} {'p50 ms':>8} {'mean ms':>8} {'cpu ms':>8} {'calls':>6}")

    def row(label: str, values: list[float], cpu_values: list[float] | None, calls: float | None) -> None:
        cpu_text = f"{np.mean(cpu_values):8.2f}" if cpu_values else f"{'':8}"
        calls_text = f"{calls:6.0f}" if calls is not None else ""
        print(f"  {label:62} {np.percentile(values, 50):8.2f} {np.mean(values):8.2f} {cpu_text} {calls_text}")

    row("the whole request (TestClient), process CPU in cpu", whole, cpu, None)
    labels = [(depth, label) for depth, label, _, _ in PARTS]
    for i, (depth, label) in enumerate(labels):
        if not any(label in r.wall for r in runs):
            continue
        values = [r.wall.get(label, 0.0) for r in runs]
        cpus = [r.cpu.get(label, 0.0) for r in runs] if any(label in r.cpu for r in runs) else None
        row("  " * (depth + 1) + label, values, cpus, float(np.mean([r.calls.get(label, 0) for r in runs])))
        children = []
        for child_depth, child in labels[i + 1 :]:
            if child_depth <= depth:
                break
            if child_depth == depth + 1:
                children.append(child)
        if children:
            rest = [r.wall.get(label, 0.0) - sum(r.wall.get(c, 0.0) for c in children) for r in runs]
            row("  " * (depth + 2) + "(the rest)", rest, None, None)
    top = [label for depth, label in labels if depth == 0]
    rest = [w - sum(r.wall.get(c, 0.0) for c in top) for w, r in zip(whole, runs, strict=True)]
    row("  (the rest: TestClient, ASGI, middleware, threadpool hops)", rest, None, None)
    row("  garbage collection pauses (anywhere above)", [r.gc_ms for r in runs], None, None)
    hops = [sum(r.hops) for r in runs]
    row("  threadpool hops there and back (anywhere above)", hops, None, float(np.mean([len(r.hops) for r in runs])))
    kinds = sorted({k for r in runs for k in r.sql})
    trips = [sum(len(v) for v in r.sql.values()) for r in runs]
    print(f"  statements and round trips to PostgreSQL per answer: mean {np.mean(trips):.1f}")
    for kind in kinds:
        per = [sum(r.sql.get(kind, [])) for r in runs]
        count = np.mean([len(r.sql.get(kind, [])) for r in runs])
        print(f"    {kind:60} {np.percentile(per, 50):8.2f} {np.mean(per):8.2f} {'':8} {count:6.1f}")


def first_windows(count: int) -> list[tuple[date, date]]:
    """`count` (at most 12) 36-month windows starting in 2021: answers the fixed 2022-2024 benchmark never gave."""
    return [(add_months(date(2021, 1, 1), k), add_months(date(2023, 12, 1), k)) for k in range(min(count, 12))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_database_arguments(parser)
    parser.add_argument("--runs", type=int, default=30, help="timed repeated answers")
    parser.add_argument("--windows", type=int, default=12, help="36-month windows from 2021 asked as first answers")
    args = parser.parse_args()
    rec = Recording()
    with bench_database(args.database, args.events, args.chunk, args.seed) as url:
        register = configured_register()
        keys = analyst_keys(url)
        app = create_app(WarehouseSettings(url=url), register, geocoder_settings())
        typical = typical_queries(url, analyst_areas(register, datetime.now(UTC).date()))[0]
        with TestClient(app) as client:
            engine = app.state.engine
            asked = [
                (typical.api_params(level, area), {"Authorization": f"Bearer {keys[org]}"})
                for level, area, org in typical.areas
            ]

            def ask(params: dict[str, str], headers: dict[str, str]) -> tuple[float, float, Anatomy]:
                rec.now = Anatomy()
                started, cpu = time.perf_counter(), time.process_time()
                response = client.get(typical.path, params=params, headers=headers)
                wall, used = (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000
                assert response.status_code == 200, response.text
                done, rec.now = rec.now, None
                return wall, used, done

            with instrumented(rec, engine):
                for params, headers in asked:  # every answer timed below is one given before
                    ask(params, headers)
                results = [ask(*asked[i % len(asked)]) for i in range(args.runs)]
                report(
                    f"{typical.name}, repeated ({len(asked)} areas)",
                    [r[0] for r in results],
                    [r[1] for r in results],
                    [r[2] for r in results],
                )
                first: list[tuple[float, float, Anatomy]] = []
                again: list[tuple[float, float, Anatomy]] = []
                for start, end in first_windows(args.windows):
                    for params, headers in asked:
                        result = ask({**params, "from": f"{start:%Y-%m}", "to": f"{end:%Y-%m}"}, headers)
                        (first if "shown_alike" in result[2].wall else again).append(result)
                if first:
                    report(
                        f"{typical.name}, first answers (windows from 2021)",
                        [r[0] for r in first],
                        [r[1] for r in first],
                        [r[2] for r in first],
                    )
                print(f"\n  windows already given (repeats, not reported as first answers): {len(again)}")


if __name__ == "__main__":
    main()
