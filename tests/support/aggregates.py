"""The tables the count triggers keep on `event` (`event_count`, `event_count_district`, `event_count_ward_total`,
`event_clause_set`), checked against a GROUP BY over `event`, and the clause sets of a dataset as they were worked
out before `event_clause_set` (the reference `justifying_sets` is checked against)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from alembic import command
from sqlalchemy import text
from sqlalchemy.orm import Session

from benchmarks.generated_events import DatasetMix
from warehouse.queries.scope import SCOPE_COLUMN, ScopeFilter, granting_refs, released_under
from warehouse.schema import migrate
from warehouse.schema.db import libpq_url

# Two datasets of generated events, each under its own clauses (the street one under two, one of them public).
STREET = ("police-to-csp-analysts@1#csp-ward-records", "police-uk-public@1#public-lsoa-monthly-counts")
RECORDS = ("police-records-to-csp@1#ward-day-records",)
DATASETS = (
    DatasetMix("police-uk-street", 0.7, "police-uk", (("violent-crime", 3.0), ("burglary", 1.0)), STREET),
    DatasetMix("police-records", 0.3, None, (("violent-crime", 2.0), ("shoplifting", 1.0)), RECORDS),
)


@dataclass(frozen=True)
class Aggregate:
    """A kept table: its key (the grouping of `event`), and its measures with what each sums over `event`."""

    key: str
    measures: tuple[tuple[str, str], ...]
    since: str  # the migration that made it

    def kept_sql(self, table: str) -> str:
        nonzero = " OR ".join(f"{column} <> 0" for column, _ in self.measures[:2])
        return f"SELECT {self.key}, {', '.join(c for c, _ in self.measures)} FROM {table} WHERE {nonzero}"

    def computed_sql(self) -> str:
        return f"SELECT {self.key}, {', '.join(e for _, e in self.measures)} FROM event GROUP BY {self.key}"


_COUNTS = (("events", "count(*)"), ("total", "sum(weight)"), ("key_sum", "sum(record_key::bigint)"))
AGGREGATES = {
    # migration 0006 (key_sum 0015)
    "event_count": Aggregate(
        "dataset, period_month, category, ward_code, ward_vintage, district_code, csp_code, county_code, pfa_code, "
        "location_status, protocols",
        _COUNTS,
        "0006",
    ),
    # migration 0022
    "event_count_district": Aggregate(
        "dataset, period_month, category, district_code, csp_code, county_code, pfa_code, location_status, protocols",
        _COUNTS,
        "0022",
    ),
    # migration 0031
    "event_count_ward_total": Aggregate(
        "dataset, csp_code, period_month, ward_code, ward_vintage, district_code, county_code, pfa_code, "
        "location_status, protocols",
        _COUNTS,
        "0031",
    ),
    # migration 0027
    "event_clause_set": Aggregate(
        "dataset, protocols, district_code, csp_code, county_code, pfa_code", (("events", "count(*)"),), "0027"
    ),
}

Rows = Counter[tuple[Any, ...]]
# The functions the statement triggers on `event` run (each migration that adds a kept table replaces them).
COUNT_FUNCTIONS = ("hub_event_count_added", "hub_event_count_removed", "hub_event_count_changed")


def count_function_definitions(url: str) -> dict[str, str]:
    """The count functions' definitions as the database keeps them, by name."""
    with psycopg.connect(libpq_url(url)) as conn:
        return {
            str(name): str(body)
            for name, body in conn.execute(
                "SELECT proname, pg_get_functiondef(oid) FROM pg_proc WHERE proname = ANY(%s)", (list(COUNT_FUNCTIONS),)
            )
        }


def _rows(found: Sequence[tuple[Any, ...]]) -> Rows:
    return Counter(tuple(tuple(v) if isinstance(v, list) else v for v in row) for row in found)


def kept_and_computed(conn: psycopg.Connection[tuple[object, ...]], table: str) -> tuple[Rows, Rows]:
    """(`table`'s non-zero rows, the same computed by a GROUP BY over event), as multisets of rows."""
    aggregate = AGGREGATES[table]
    kept = conn.execute(aggregate.kept_sql(table)).fetchall()
    return _rows(kept), _rows(conn.execute(aggregate.computed_sql()).fetchall())


def assert_aggregates_consistent(conn: psycopg.Connection[tuple[object, ...]], step: str) -> None:
    """Every table kept at the database's revision equals its GROUP BY over `event`, and no count is negative."""
    revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert revision is not None
    for table, aggregate in AGGREGATES.items():
        if aggregate.since > str(revision[0]):
            continue
        kept, computed = kept_and_computed(conn, table)
        extra, missing = list(kept - computed), list(computed - kept)
        assert kept == computed, f"after {step}: {table} has {extra[:2]}... but the events give {missing[:2]}..."
        negative = " OR ".join(f"{column} < 0" for column, _ in aggregate.measures)
        found = conn.execute(f"SELECT count(*) FROM {table} WHERE {negative}")
        assert found.fetchone() == (0,), f"after {step}: {table} has a negative count"


def assert_downgrade_round_trip(
    url: str, revision: str, table: str, before: dict[str, str], write: Callable[[psycopg.Connection[Any]], object]
) -> None:
    """Downgrading `revision` drops `table` and puts back the count functions exactly as `before` (their
    definitions at the revision below), which go on counting what `write` adds; upgrading again keeps every table
    equal to its GROUP BY over `event`."""
    assert count_function_definitions(url) != before
    command.downgrade(migrate.alembic_config(url), f"{int(revision) - 1:04d}")
    assert count_function_definitions(url) == before
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        assert conn.execute("SELECT to_regclass(%s)", (table,)).fetchone() == (None,)
        write(conn)
        counted = conn.execute("SELECT sum(events) FROM event_count").fetchone()
        assert counted == conn.execute("SELECT count(*) FROM event").fetchone()
    migrate.upgrade(url, revision)
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        assert_aggregates_consistent(conn, "downgrading, loading and upgrading again")


def justifying_sets_before_0027(
    session: Session, dataset: str, clause_refs: Sequence[str], scopes: Sequence[ScopeFilter] = ()
) -> list[tuple[str, ...]]:
    """`justifying_sets` as it was before migration 0027: the distinct clause sets over the dataset's
    `event_count_district` rows."""
    released, params = released_under(clause_refs, scopes)
    granting, _ = granting_refs(clause_refs, scopes)
    columns = ", ".join(["e.protocols", *sorted({f"e.{SCOPE_COLUMN[scope.level]}" for scope in scopes})])
    rows = session.execute(
        text(
            f"SELECT DISTINCT {granting} FROM (SELECT DISTINCT {columns} FROM event_count_district e "
            f"WHERE e.dataset = :d AND {released} AND e.events > 0) e"
        ),
        {"d": dataset, **params},
    )
    return [tuple(r[0]) for r in rows]
