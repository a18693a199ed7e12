"""Aggregate counts over the warehouse: a pre-aggregated table where one can answer, else `event`.

The pre-aggregated tables, kept by triggers on `event`: `event_count` (by ward and the coarser area codes),
`event_count_district` (the same without the ward: district, CSP, county and force queries, and a dataset's
months and categories, read it; it has far fewer rows), `event_count_ward_total` (`event_count` without the
category, keyed by CSP: a CSP's ward counts of all categories read it) and `event_clause_set` (a dataset's clause
sets by the area codes a scope looks at: a few rows, which the disclosure rule's `justifying_sets` reads).

A count is the sum of event weights (1 per record; an aggregate record counts for its own `count`), of events
released under any of the caller's clauses, by area code at a level, month, and optionally category and dataset.
With each count comes its cell key: the sum of the counted events' record keys modulo RECORD_KEY_MODULUS
(`event_count.key_sum` keeps the unreduced sum per row).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from sharing_protocols.perturbation import RECORD_KEY_MODULUS
from warehouse.queries.scope import ScopeFilter, granting_refs, released_under


class Level(StrEnum):
    """Geographic level of an aggregate."""

    ward = "ward"
    lsoa = "lsoa"
    lad = "lad"
    csp = "csp"
    county = "county"
    pfa = "pfa"


# The event (and event_count) column holding each level's code.
CODE_COLUMN = {
    Level.ward: "ward_code",
    Level.lsoa: "lsoa_code",
    Level.lad: "district_code",
    Level.csp: "csp_code",
    Level.county: "county_code",
    Level.pfa: "pfa_code",
}
# Re-aggregation of stored points into another ward vintage: the stored ward when the vintage is the event's own,
# else the smallest-coded ward of that vintage holding the point (none when no point was released).
_WARD_OF_VINTAGE = """CASE WHEN e.ward_vintage = :vintage THEN e.ward_code
    WHEN e.geom IS NULL THEN NULL
    ELSE (SELECT a.code FROM area a WHERE a.vintage = :vintage AND a.level = 'ward'
          AND ST_Intersects(a.geom, e.geom) ORDER BY a.code LIMIT 1) END"""


@dataclass(frozen=True)
class CountQuery:
    """What to count: datasets, months, the clauses that justify an event, and how to group and filter."""

    datasets: tuple[str, ...]
    level: Level
    start: date  # first month (day 1)
    end: date  # last month (day 1)
    clause_refs: tuple[str, ...]
    by_category: bool = False
    by_dataset: bool = False
    areas: tuple[str, ...] = ()  # only events in these areas (codes at `area_level`)
    area_level: Level | None = None  # defaults to `level`
    categories: tuple[str, ...] = ()  # only these categories
    vintage: str | None = None  # ward level only: re-aggregate stored points to this ward vintage
    attributes: tuple[tuple[str, str | int | float | bool], ...] = ()  # only events with these attribute values
    scopes: tuple[ScopeFilter, ...] = ()  # events of these scoped clauses only inside their areas


@dataclass(frozen=True)
class Cell:
    """The count of one area, month (and category, dataset), and its cell key."""

    area_code: str
    category: str | None
    dataset: str | None
    month: date
    count: int
    key: int


@dataclass(frozen=True)
class UnlocatedCell:
    """Events that could not be placed at the level, by why, and their cell key."""

    reason: str
    category: str | None
    dataset: str | None
    month: date
    count: int
    key: int


# The levels `event_count_district` holds (it has no ward or LSOA).
DISTRICT_LEVELS = frozenset({Level.lad, Level.csp, Level.county, Level.pfa})


def uses_event_count(query: CountQuery) -> bool:
    """Whether a pre-aggregated table can answer: every level but the LSOA, stored wards only, no attribute
    filter."""
    return query.vintage is None and not query.attributes and Level.lsoa not in (query.level, query.area_level)


def aggregate_table(query: CountQuery) -> str:
    """The table that answers `query`: `event_count_district` when no ward or LSOA is involved,
    `event_count_ward_total` for a CSP's ward counts of all categories, else `event_count` when it can answer, else
    `event`."""
    if not uses_event_count(query):
        return "event"
    area_level = query.area_level or query.level
    if query.level in DISTRICT_LEVELS and area_level in DISTRICT_LEVELS:
        return "event_count_district"
    if query.level is Level.ward and area_level is Level.csp and not (query.by_category or query.categories):
        return "event_count_ward_total"
    return "event_count"


def _source(query: CountQuery) -> tuple[str, str, str, str]:
    """The table, its count expression, its record key sum expression and the level's code expression."""
    if query.vintage is not None:
        return "event e", "e.weight", "e.record_key", _WARD_OF_VINTAGE
    table = aggregate_table(query)
    if table != "event":
        return f"{table} e", "e.total", "e.key_sum", f"e.{CODE_COLUMN[query.level]}"
    return "event e", "e.weight", "e.record_key", f"e.{CODE_COLUMN[query.level]}"


def _cell_key(key_sum: object) -> int:
    """A cell key from the unreduced sum of record keys the database returns."""
    return int(str(key_sum)) % RECORD_KEY_MODULUS


def _where(query: CountQuery) -> tuple[str, dict[str, Any]]:
    released, params = released_under(query.clause_refs, query.scopes)
    params |= {"datasets": list(query.datasets), "start": query.start, "end": query.end, "vintage": query.vintage}
    where = [
        "e.dataset = ANY(CAST(:datasets AS text[]))",
        "e.period_month BETWEEN :start AND :end",
        released,
    ]
    if query.areas:
        where.append(f"e.{CODE_COLUMN[query.area_level or query.level]} = ANY(CAST(:areas AS text[]))")
        params["areas"] = list(query.areas)
    if query.categories:
        where.append("e.category = ANY(CAST(:categories AS text[]))")
        params["categories"] = list(query.categories)
    if query.attributes:
        where.append("e.attributes @> CAST(:attributes AS jsonb)")
        params["attributes"] = json.dumps(dict(query.attributes))
    return " AND ".join(where), params


def count_sql(query: CountQuery, unlocated: bool = True) -> tuple[str, dict[str, Any]]:
    """The SQL of the counts, with its parameters (also for EXPLAIN): one grouped read whose rows are (area code,
    NULL, category, dataset, month, count, record key sum) for located cells, then (NULL, why unlocated, ...) for
    the unlocated ones unless `unlocated` is False."""
    table, measure, keys, code = _source(query)
    where, params = _where(query)
    category = "e.category" if query.by_category else "NULL::text"
    dataset = "e.dataset" if query.by_dataset else "NULL::text"
    point = ", e.geom AS located_point" if query.vintage and unlocated else ""  # the reason depends on a point
    placed = f"SELECT {code} AS area_code, {category} AS category, {dataset} AS dataset, e.period_month, " + (
        f"e.location_status, {measure} AS n, {keys} AS k{point} FROM {table} WHERE {where}"
    )
    if not unlocated:
        return (
            f"""SELECT area_code, NULL::text, category, dataset, period_month, sum(n), sum(k) FROM ({placed}) p
            WHERE area_code IS NOT NULL GROUP BY 1, 3, 4, 5 HAVING sum(n) <> 0 ORDER BY 1, 5, 3, 4""",
            params,
        )
    no_code = (
        "CASE WHEN p.located_point IS NULL THEN 'no_point_for_vintage' ELSE 'outside_coverage' END"
        if query.vintage
        else f"'no_{query.level.value}_code'"
    )
    reason = f"""CASE WHEN p.area_code IS NOT NULL THEN NULL WHEN p.location_status = 'located' THEN {no_code}
        ELSE p.location_status END"""
    sql = f"""SELECT area_code, {reason}, category, dataset, period_month, sum(n), sum(k) FROM ({placed}) p
        GROUP BY 1, 2, 3, 4, 5 HAVING sum(n) <> 0 ORDER BY 1, 2, 5, 3, 4"""
    return sql, params


def count_cells(session: Session, query: CountQuery) -> tuple[list[Cell], list[UnlocatedCell]]:
    """Counts per area and month (and category, dataset) of the events released under the query's clauses, and of
    those not placed at the query's level (by why), from one grouped read."""
    sql, params = count_sql(query)
    cells: list[Cell] = []
    unlocated: list[UnlocatedCell] = []
    for r in session.execute(text(sql), params).all():  # one fetch: row by row costs ~10 us a row more
        if r[0] is not None:
            cells.append(Cell(r[0], r[2], r[3], r[4], int(r[5]), _cell_key(r[6])))
        else:
            unlocated.append(UnlocatedCell(r[1], r[2], r[3], r[4], int(r[5]), _cell_key(r[6])))
    return cells, unlocated


def located_cells(session: Session, query: CountQuery) -> list[Cell]:
    """The located counts of `count_cells` alone (for answers that do not report unlocated events)."""
    sql, params = count_sql(query, unlocated=False)
    return [Cell(r[0], r[2], r[3], r[4], int(r[5]), _cell_key(r[6])) for r in session.execute(text(sql), params).all()]


def total(session: Session, query: CountQuery) -> tuple[int, int]:
    """The count of everything the query matches, located or not, and its cell key."""
    table, measure, keys, _ = _source(query)
    where, params = _where(query)
    sql = f"SELECT coalesce(sum({measure}), 0), coalesce(sum({keys}), 0) FROM {table} WHERE {where}"
    row = session.execute(text(sql), params).one()
    return int(row[0]), _cell_key(row[1])


def justifying_sets(
    session: Session, dataset: str, clause_refs: Sequence[str], scopes: Sequence[ScopeFilter] = ()
) -> list[tuple[str, ...]]:
    """The distinct sets of `clause_refs` that justify `dataset`'s events (a scoped clause only where the event lies
    inside its scope), over every month and area: from `event_clause_set`, a few rows per dataset."""
    released, params = released_under(clause_refs, scopes)
    granting, _ = granting_refs(clause_refs, scopes)
    rows = session.execute(
        text(
            f"SELECT DISTINCT {granting} FROM event_clause_set e WHERE e.dataset = :d AND {released} AND e.events > 0"
        ),
        {"d": dataset, **params},
    )
    return [tuple(r[0]) for r in rows]


def data_months(
    session: Session, datasets: Sequence[str], clause_refs: Sequence[str], scopes: Sequence[ScopeFilter] = ()
) -> tuple[date, date] | None:
    """The first and last month with any event of `datasets` released under `clause_refs` (inside `scopes`); None
    without any."""
    released, params = released_under(clause_refs, scopes)
    # Per dataset, so that each first and last month is read from the end of the (dataset, month) key's range.
    row = session.execute(
        text(
            "SELECT min(m.first), max(m.last) FROM unnest(CAST(:d AS text[])) AS s(dataset) CROSS JOIN LATERAL ("
            "SELECT min(period_month) AS first, max(period_month) AS last FROM event_count_district e "
            f"WHERE e.dataset = s.dataset AND {released} AND e.events > 0) m"
        ),
        {"d": list(datasets), **params},
    ).one()
    return (row[0], row[1]) if isinstance(row[0], date) and isinstance(row[1], date) else None


def data_categories(
    session: Session, dataset: str, clause_refs: Sequence[str], scopes: Sequence[ScopeFilter] = (), at_least: int = 1
) -> list[str]:
    """The categories of `dataset` with at least `at_least` events released under `clause_refs` (inside `scopes`)
    in all, sorted."""
    released, params = released_under(clause_refs, scopes)
    rows = session.execute(
        text(
            "SELECT category FROM event_count_district e "
            f"WHERE dataset = :d AND {released} AND category IS NOT NULL "
            "GROUP BY category HAVING sum(events) >= :at_least ORDER BY 1"
        ),
        {"d": dataset, "at_least": at_least, **params},
    )
    return [str(r[0]) for r in rows]


@dataclass(frozen=True)
class Coverage:
    """The months and areas a dataset has events in at a level."""

    first: date
    last: date
    areas: tuple[str, ...]


def coverage(
    session: Session, dataset: str, level: Level, clause_refs: Sequence[str], scopes: Sequence[ScopeFilter] = ()
) -> Coverage | None:
    """The first and last month, and the areas, of `dataset`'s events released under `clause_refs` (inside
    `scopes`) and placed at `level` (None: no events)."""
    code = CODE_COLUMN[level]
    table = "event_count_district" if level in DISTRICT_LEVELS else "event_count"
    released, params = released_under(clause_refs, scopes)
    row = session.execute(
        text(
            f"SELECT min(period_month), max(period_month), array_agg(DISTINCT {code}) FROM {table} e "
            f"WHERE dataset = :d AND {released} AND {code} IS NOT NULL AND total <> 0"
        ),
        {"d": dataset, **params},
    ).one()
    if not isinstance(row[0], date) or not isinstance(row[1], date):
        return None
    return Coverage(row[0], row[1], tuple(sorted(str(c) for c in row[2])))
