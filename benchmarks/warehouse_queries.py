"""Analyst query latency: the hub's API and query layer against a naive GROUP BY on `event`, on N generated events.

The script makes its own database (migrated; May 2024 wards, 2021 LSOAs and the area lookups loaded as `hub demo`
loads them), writes N synthetic events into `event` with SQL (benchmarks/generated_events.py: Sussex and Essex
wards with their real district/CSP/county/force codes, 48 months from January 2021, the 14 police.uk categories and
two more datasets, skewed; chunks of 500,000 so the `event_count` triggers keep the aggregate as the worker's
loads do), vacuums and analyses, then times two typical analyst queries, varying the area across runs:

- ward x month counts for one CSP over 3 years (2022-2024): GET /v1/counts level=ward area=<CSP> area_level=csp;
- district trends: each quarter of 2024 against the previous quarter and the same quarter of 2023, for the
  districts of a county (or police force): GET /v1/trends level=lad period=quarter area=<county|force>.

Only areas lying wholly in the districts of east-sussex-csp or essex-csp are asked, each with an analyst key of
that CSP: both are recipients of police-to-csp-analysts, whose clause releases exact counts but only inside the
recipient's own districts. Each query is run three ways: through the real API (FastAPI TestClient), through the
query layer alone
(`warehouse.queries.aggregates.count_cells`), and as a plain GROUP BY on `event`. The answers are checked to agree
exactly, then p50/p95/p99/mean latencies and the ratio naive / hub are printed (target: hub p95 < 50 ms and at least
20x faster than the naive query).

    .venv/bin/hub up
    .venv/bin/python -m benchmarks.warehouse_queries [--events 10000000] [--runs 50]
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.factory import create_app
from benchmarks.generated_events import DatasetMix, EventGenerator, forces_wards
from deploy import local
from deploy.protocol_files import configured_register
from deploy.reference_files import load_areas_and_lookups
from deploy.settings import DatabaseSettings, LocalSettings, geocoder_settings
from sharing_protocols.datasets.police_uk_street import CATEGORIES
from sharing_protocols.decision import ProtocolRegister
from sharing_protocols.periods import Period, PeriodType, add_months, periods
from warehouse.governance.keys import create_key
from warehouse.queries.aggregates import CODE_COLUMN, CountQuery, Level, count_cells, located_cells
from warehouse.schema import migrate
from warehouse.schema.db import libpq_url, session_scope, warehouse_engine
from warehouse.settings import WarehouseSettings

LOOKUP_VINTAGE = "lookups-2024"
FORCES = ("E23000033", "E23000028")  # Sussex, Essex
FIRST_MONTH, MONTHS = date(2021, 1, 1), 48
# The analysts asking: CSPs whose clause (police-to-csp-analysts#csp-ward-records) releases exact counts, each
# scoped to its own districts; every area is asked by the one whose districts hold it whole.
ANALYSTS = ("east-sussex-csp", "essex-csp")
PROTOCOL = "police-to-csp-analysts"
DATASET = "police-uk-street"
# Share of each police.uk category (roughly the national mix).
POLICE_MIX = {
    "anti-social-behaviour": 24,
    "violent-crime": 32,
    "criminal-damage-arson": 8,
    "public-order": 8,
    "shoplifting": 6,
    "other-theft": 5,
    "vehicle-crime": 5,
    "burglary": 4,
    "drugs": 2,
    "other-crime": 2,
    "theft-from-the-person": 1,
    "bicycle-theft": 1,
    "robbery": 1,
    "possession-of-weapons": 1,
}
ASB_MIX = {"asb-nuisance": 6, "asb-personal": 3, "asb-environmental": 1}
SHARES = {"police-uk-street": 0.6, "police-records": 0.25, "council-asb": 0.15}
PARTNERS = {"police-uk-street": "police-uk", "police-records": None, "council-asb": "district-council"}


def clause_refs(register: ProtocolRegister, dataset: str, today: date) -> tuple[str, ...]:
    """The refs of every clause in force that covers `dataset`: what the worker records on its events."""
    refs = {f"{p.label}#{c.id}" for p in register.active_at(today) for c in p.clauses if dataset in c.datasets}
    return tuple(sorted(refs))


def dataset_mix(register: ProtocolRegister, today: date) -> tuple[DatasetMix, ...]:
    """The generated datasets: police.uk street crime (most), police records and council ASB cases."""
    assert set(POLICE_MIX) == set(CATEGORIES.values())
    mixes = []
    for dataset, share in SHARES.items():
        categories = ASB_MIX if dataset == "council-asb" else POLICE_MIX
        mixes.append(
            DatasetMix(
                dataset,
                share,
                PARTNERS[dataset],
                tuple((c, float(w)) for c, w in categories.items()),
                clause_refs(register, dataset, today),
            )
        )
    return tuple(mixes)


def prepare_references(url: str, shared: Path) -> None:
    """Wards, LSOAs and the area lookups, loaded as `hub demo` loads them."""
    load_areas_and_lookups(shared, url, LOOKUP_VINTAGE)


def generate(url: str, shared: Path, events: int, chunk: int, seed: int) -> None:
    """Load the references and `events` generated events; print the load time and table sizes."""
    prepare_references(url, shared)
    wards = forces_wards(url, LOOKUP_VINTAGE, FORCES)
    mix = dataset_mix(configured_register(), datetime.now(UTC).date())
    generator = EventGenerator(tuple(wards), mix, FIRST_MONTH, MONTHS, seed)
    print(f"generating {events:,} events in {len(wards)} wards, {MONTHS} months, chunks of {chunk:,} ...")
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        elapsed = generator.write(conn, events, chunk, progress=lambda n: print(f"  {n:>12,} events", flush=True))
        print(f"loaded in {elapsed:.1f} s ({events / elapsed:,.0f} events/s, event_count kept by its triggers)")
        started = time.perf_counter()
        conn.execute("VACUUM (ANALYZE) event")
        conn.execute("VACUUM (ANALYZE) event_count")
        conn.execute("VACUUM (ANALYZE) event_count_district")
        conn.execute("VACUUM (ANALYZE) event_clause_set")
        print(f"VACUUM ANALYZE (as autovacuum would do after the load): {time.perf_counter() - started:.1f} s")


def print_sizes(url: str) -> None:
    """Rows and on-disk size (with indexes) of `event` (all partitions) and `event_count`."""
    with psycopg.connect(libpq_url(url)) as conn:
        event = conn.execute(
            "SELECT count(*), sum(pg_total_relation_size(inhrelid)) FROM pg_inherits "
            "WHERE inhparent = 'event'::regclass"
        ).fetchone()
        rows = conn.execute("SELECT count(*) FROM event").fetchone()
        counts = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE events > 0), pg_total_relation_size('event_count') "
            "FROM event_count"
        ).fetchone()
    assert event is not None and rows is not None and counts is not None
    print(f"event:       {rows[0]:>12,} rows in {event[0]} monthly partitions, {event[1] / 2**20:8,.0f} MiB")
    print(f"event_count: {counts[0]:>12,} rows ({counts[1]:,} non-zero),     {counts[2] / 2**20:8,.0f} MiB")


@dataclass(frozen=True)
class Typical:
    """A typical analyst query of `path`: counts at `level` by `period` from `start` to `end`, one area at a time."""

    name: str
    path: str  # /v1/counts or /v1/trends
    level: Level
    period: PeriodType
    start: date
    end: date
    areas: tuple[tuple[Level, str, str], ...]  # (area_level, code, the analyst's organisation), varied across runs

    def api_params(self, area_level: Level, area: str) -> dict[str, str]:
        return {
            "dataset": DATASET,
            "level": self.level.value,
            "area": area,
            "area_level": area_level.value,
            "from": f"{self.start:%Y-%m}",
            "to": f"{self.end:%Y-%m}",
            "period": self.period.value,
        }

    def periods(self) -> list[Period]:
        """Every period the answer holds: a trend also holds those of the year before (its bases)."""
        start = add_months(self.start, -12) if self.path == "/v1/trends" else self.start
        return periods(self.period, start, self.end)

    def count_query(self, area_level: Level, area: str, refs: Sequence[str]) -> CountQuery:
        """What the API asks the query layer for (the months widened to whole periods, as `resolve` does)."""
        found = self.periods()
        return CountQuery(
            datasets=(DATASET,),
            level=self.level,
            start=found[0].first,
            end=found[-1].last,
            clause_refs=tuple(refs),
            areas=(area,),
            area_level=area_level,
        )

    def naive_sql(self, area_level: Level) -> str:
        """The same counts as one GROUP BY over `event`."""
        code, within = CODE_COLUMN[self.level], CODE_COLUMN[area_level]
        label = "to_char(period_month, 'YYYY-MM')"
        if self.period is PeriodType.quarter:
            label = "to_char(period_month, 'YYYY-\"Q\"Q')"
        elif self.period is not PeriodType.month:
            raise ValueError("the naive query knows months and quarters")
        return f"""
            SELECT {code}, {label}, count(*) FROM event
            WHERE dataset = :dataset AND {within} = :area AND period_month BETWEEN :start AND :end
              AND protocols && CAST(:refs AS text[]) AND {code} IS NOT NULL
            GROUP BY 1, 2"""


Answer = dict[tuple[str, str], int]  # (area code, period label) -> count


def _cells(body: dict[str, Any]) -> Answer:
    """(area, period) -> count of a /v1/counts or /v1/trends answer (a trend row also gives its bases' counts)."""
    answer: Answer = {}
    for row in body["rows"]:
        answer[(row["area_code"], row["period"])] = row["count"]
        for base in ("previous", "year_ago"):
            if base in row and row[base]["count"] is not None:
                answer[(row["area_code"], row[base]["period"])] = row[base]["count"]
    return {k: v for k, v in answer.items() if v}


def api_answer(
    client: TestClient, typical: Typical, area_level: Level, area: str, key: str
) -> tuple[Answer, list[str]]:
    """The API's counts (asked with analyst `key`) and the clause refs it answered under; the rule must be exact to
    compare them."""
    response = client.get(typical.path, params=typical.api_params(area_level, area), headers=_bearer(key))
    if response.status_code != 200:
        raise SystemExit(f"GET {typical.path} answered {response.status_code}: {response.text[:500]}")
    body = response.json()
    rule = body["disclosure"]
    if (rule["min_cell_count"], rule["round_to"]) != (1, 1):
        raise SystemExit(f"the bench needs exact counts, but the API applied {rule['rule']}")
    return _cells(body), list(body["protocols"])


def layer_answer(session: Session, typical: Typical, query: CountQuery) -> Answer:
    """The query layer's monthly cells summed into the query's periods."""
    labels = {month: p.label for p in typical.periods() for month in p.months}
    answer: Answer = defaultdict(int)
    for cell in located_cells(session, query):
        answer[(cell.area_code, labels[cell.month])] += cell.count
    return {k: v for k, v in answer.items() if v}


def naive_answer(session: Session, typical: Typical, area_level: Level, area: str, refs: Sequence[str]) -> Answer:
    found = typical.periods()
    params = {"dataset": DATASET, "area": area, "start": found[0].first, "end": found[-1].last, "refs": list(refs)}
    return {(r[0], r[1]): int(r[2]) for r in session.execute(text(typical.naive_sql(area_level)), params)}


@dataclass(frozen=True)
class Timings:
    """Latencies in milliseconds."""

    ms: list[float]

    @property
    def p50(self) -> float:
        return float(np.percentile(self.ms, 50))

    @property
    def p95(self) -> float:
        return float(np.percentile(self.ms, 95))

    @property
    def p99(self) -> float:
        return float(np.percentile(self.ms, 99))

    @property
    def mean(self) -> float:
        return float(np.mean(self.ms))


def timed(runs: int, call: Callable[[int], object]) -> Timings:
    """`call(i)` for i in 0..runs-1, each timed."""
    ms = []
    for i in range(runs):
        started = time.perf_counter()
        call(i)
        ms.append((time.perf_counter() - started) * 1000)
    return Timings(ms)


@dataclass(frozen=True)
class Result:
    typical: Typical
    first: Timings  # the API's first answer for each area (the warm-up, checked against the others)
    api: Timings
    layer: Timings
    naive: Timings
    cells: int  # cells per answer, on average


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def run_typical(
    client: TestClient, keys: dict[str, str], session: Session, typical: Typical, runs: int, naive_runs: int
) -> Result:
    """Warm up on every area (checking the three answers agree), then time each way of answering."""
    refs: dict[tuple[Level, str], list[str]] = {}
    cells = 0
    first = []
    for area_level, area, org in typical.areas:
        started = time.perf_counter()
        api, refs[(area_level, area)] = api_answer(client, typical, area_level, area, keys[org])
        first.append((time.perf_counter() - started) * 1000)
        layer = layer_answer(session, typical, typical.count_query(area_level, area, refs[(area_level, area)]))
        naive = naive_answer(session, typical, area_level, area, refs[(area_level, area)])
        if not api == layer == naive:
            raise SystemExit(f"{typical.name}, {area}: the API, the query layer and the naive query disagree")
        if not api:
            raise SystemExit(f"{typical.name}, {area}: no counts at all; the benchmark would time empty answers")
        cells += len(api)
    areas = typical.areas

    def by_api(i: int) -> None:
        area_level, area, org = areas[i % len(areas)]
        response = client.get(typical.path, params=typical.api_params(area_level, area), headers=_bearer(keys[org]))
        assert response.status_code == 200

    def by_layer(i: int) -> None:
        area_level, area, _ = areas[i % len(areas)]
        count_cells(session, typical.count_query(area_level, area, refs[(area_level, area)]))

    def by_naive(i: int) -> None:
        area_level, area, _ = areas[i % len(areas)]
        naive_answer(session, typical, area_level, area, refs[(area_level, area)])

    by = (timed(runs, by_api), timed(runs, by_layer), timed(naive_runs, by_naive))
    return Result(typical, Timings(first), *by, cells // len(areas))


def analyst_keys(url: str) -> dict[str, str]:
    """A new analyst key of each organisation of ANALYSTS, in the database at `url`."""
    with session_scope(url) as session:
        return {org: create_key(session, org, "analyst") for org in ANALYSTS}


def analyst_areas(register: ProtocolRegister, today: date) -> dict[str, frozenset[str]]:
    """The districts each analyst of ANALYSTS is scoped to (its recipient area in PROTOCOL)."""
    found = {}
    for protocol in register.active_at(today):
        for recipient in protocol.recipients if protocol.id == PROTOCOL else ():
            if recipient.id in ANALYSTS and recipient.area is not None and recipient.area.level == "district":
                found[recipient.id] = frozenset(recipient.area.all_codes)
    if set(found) != set(ANALYSTS):
        raise SystemExit(f"{PROTOCOL} does not give every analyst of {ANALYSTS} an area of districts")
    return found


def typical_queries(url: str, scopes: dict[str, frozenset[str]]) -> list[Typical]:
    """The CSPs, counties and forces of the generated wards that lie wholly in an analyst's districts (`scopes`),
    each with that analyst, and the two typical queries over them."""
    with psycopg.connect(libpq_url(url)) as conn:
        districts: dict[tuple[Level, str], set[str]] = defaultdict(set)
        for level in (Level.csp, Level.county, Level.pfa):
            column = CODE_COLUMN[level]
            for code, district in conn.execute(
                f"SELECT DISTINCT {column}, district_code FROM event_count_district "
                f"WHERE {column} IS NOT NULL AND district_code IS NOT NULL"
            ):
                districts[(level, str(code))].add(str(district))
    asked: dict[Level, list[tuple[Level, str, str]]] = defaultdict(list)
    for (level, code), within in sorted(districts.items()):
        orgs = [org for org, scope in sorted(scopes.items()) if within <= scope]
        if orgs:
            asked[level].append((level, code, orgs[0]))
    return [
        Typical(
            "ward x month counts, one CSP, 36 months (2022-2024)",
            "/v1/counts",
            Level.ward,
            PeriodType.month,
            date(2022, 1, 1),
            date(2024, 12, 1),
            tuple(asked[Level.csp]),
        ),
        Typical(
            "district trends: 2024 by quarter, one county or force",
            "/v1/trends",
            Level.lad,
            PeriodType.quarter,
            date(2024, 1, 1),
            date(2024, 12, 1),
            tuple(asked[Level.county] + asked[Level.pfa]),
        ),
    ]


def report(results: Sequence[Result], runs: int, naive_runs: int) -> None:
    print()
    print(f"{'':52} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9} {'mean ms':>9} {'runs':>5}")
    for result in results:
        t = result.typical
        print(f"{t.name} ({len(t.areas)} areas, ~{result.cells} cells per answer)")
        rows = (
            (f"hub API  GET {t.path}, first answer per area", result.first, len(t.areas)),
            (f"hub API  GET {t.path}", result.api, runs),
            ("query layer alone  count_cells", result.layer, runs),
            ("naive GROUP BY on event", result.naive, naive_runs),
        )
        for label, timing, n in rows:
            print(f"  {label:50} {timing.p50:9.1f} {timing.p95:9.1f} {timing.p99:9.1f} {timing.mean:9.1f} {n:5}")
        api, naive = result.api, result.naive
        ratio = (naive.p50 / api.p50, naive.p95 / api.p95, naive.mean / api.mean)
        print(f"  {'ratio naive / hub API':50} {ratio[0]:8.0f}x {ratio[1]:8.0f}x {ratio[2]:8.0f}x")
        fast = "met" if api.p95 < 50 else "NOT met"
        faster = "met" if ratio[0] >= 20 else "NOT met"
        print(f"  target: hub API p95 < 50 ms: {fast}; naive / hub (p50) >= 20x: {faster}")


@contextmanager
def bench_database(database: str | None, events: int, chunk: int, seed: int) -> Iterator[str]:
    """The owner's URL of a benchmark database holding generated events: `database` when given (created if missing,
    events generated only when it has none, kept afterwards), else a new one generated and dropped at the end.
    Starts the embedded services (unless external) and prints the tables' sizes."""
    shared = LocalSettings().shared_data.resolve()
    for line in local.up():
        print(line)
    server = DatabaseSettings().url  # HUB_DATABASE_URL: the server to create the database on (else the embedded)
    name = database or f"bench_{uuid.uuid4().hex[:8]}"
    url = local.create_database(name, server)
    try:
        migrate.upgrade(url)
        with psycopg.connect(libpq_url(url)) as conn:
            has_events = conn.execute("SELECT EXISTS (SELECT 1 FROM event)").fetchone()
        if has_events and has_events[0]:
            print(f"database {name} already holds events; not generating")
            with psycopg.connect(libpq_url(url), autocommit=True) as conn:
                for table in ("event_count_district", "event_clause_set"):  # made by a migration since the load?
                    conn.execute(f"VACUUM (ANALYZE) {table}")
        else:
            generate(url, shared, events, chunk, seed)
        print_sizes(url)
        yield url
    finally:
        if database is None:
            local.drop_database(name, server)


def add_database_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `bench_database`: --events, --chunk, --seed, --database."""
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--chunk", type=int, default=500_000, help="events per INSERT statement")
    parser.add_argument("--seed", type=int, default=2019)
    parser.add_argument("--database", help="use (and keep) this database; events are generated only when it has none")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_database_arguments(parser)
    parser.add_argument("--runs", type=int, default=50, help="timed runs of each query through the hub")
    parser.add_argument("--naive-runs", type=int, default=None, help="timed runs of the naive query (default: --runs)")
    args = parser.parse_args()
    naive_runs = args.naive_runs or args.runs
    with bench_database(args.database, args.events, args.chunk, args.seed) as url:
        warehouse = WarehouseSettings(url=url)
        engine = warehouse_engine(warehouse)
        try:
            register = configured_register()
            keys = analyst_keys(url)
            app = create_app(warehouse, register, geocoder_settings())
            results = []
            with TestClient(app) as client, Session(engine) as session:
                for typical in typical_queries(url, analyst_areas(register, datetime.now(UTC).date())):
                    print(f"timing: {typical.name} ...", flush=True)
                    results.append(run_typical(client, keys, session, typical, args.runs, naive_runs))
            report(results, args.runs, naive_runs)
        finally:
            engine.dispose()


if __name__ == "__main__":
    main()
