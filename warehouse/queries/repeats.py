"""Repeat counts over linked (pseudonymous) records: domestic abuse repeat victimisation and the MARAC repeat rate.

Both read `event` (record by record: each event counts 1, whatever its weight) and only events released under the
caller's clauses (`protocols` overlapping `clause_refs`), also for the history looked back on.

Domestic abuse repeat victimisation, as CSPs count it: every police record flagged `domestic_abuse` (crime or
incident) is an incident in the month of its first day (`period_start`). An incident on day d is a repeat when
the same victim pseudonym had at least one other domestic abuse incident on a day in [d - 12 months, d] that comes
before it. Order is by day, then by event id: of two incidents of one victim on the same day the one with the
smaller event id comes first, so exactly one of them is the repeat. An incident without a victim pseudonym is
counted, never a repeat, and never makes another incident a repeat. History is looked back on regardless of area,
so a victim's earlier incident in another area still makes a repeat.

The MARAC repeat rate (former NI 32): a case is a victim and the main perpetrator heard at a MARAC on the review
day (`period_start`). A case is a repeat when the same victim with the same main perpetrator was heard at the same
MARAC (`marac_area`) on a day in [d - 12 months, d] before it (same-day ties by event id, as above). Both bounds
are inclusive: a review exactly 12 months after the last is a repeat. Information-only referrals (category
`information-only`) are not cases: they are counted apart, are never repeats and never make a later case a
repeat. A case without a victim or perpetrator pseudonym (or without a MARAC area) cannot be linked: it counts
as a case and is never a repeat. For each month M from `start` to `end` the period is the 12 months ending with
M; cases are counted where they were heard in it, repeats looked back on as far as needed (before `start`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from warehouse.queries.aggregates import CODE_COLUMN, Level
from warehouse.queries.scope import ScopeFilter, released_under

POLICE_RECORDS = "police-records"
MARAC_CASES = "marac-cases"


@dataclass(frozen=True)
class RepeatQuery:
    """Months `start`..`end` (day 1), the clauses that justify an event, and where to count."""

    level: Level
    start: date
    end: date
    clause_refs: tuple[str, ...]
    areas: tuple[str, ...] = ()  # only events in these areas (codes at `area_level`), or with no code at `level`
    area_level: Level | None = None  # defaults to `level`
    scopes: tuple[ScopeFilter, ...] = ()  # events of these scoped clauses only inside their areas (history too)


@dataclass(frozen=True)
class DomesticAbuseCell:
    """Domestic abuse incidents of one area (None: no code at the level) and month."""

    area_code: str | None
    month: date
    incidents: int
    repeats: int
    without_victim: int  # incidents without a victim pseudonym (never repeats)


@dataclass(frozen=True)
class MaracCell:
    """MARAC cases heard in the 12 months ending with `last_month`, at one MARAC and/or area.

    `marac_area` is None when not grouped by MARAC; `area_code` is None when not grouped by area or when the case
    has no code at the level (the query says which).
    """

    marac_area: str | None
    area_code: str | None
    last_month: date
    cases: int  # excluding information-only referrals
    repeats: int
    unlinked: int  # cases without a victim or perpetrator pseudonym (never repeats)
    information_only: int


def _filters(query: RepeatQuery, dataset: str) -> tuple[str, dict[str, Any]]:
    """The area filter (applied to what is counted, never to the history looked back on), with the parameters of
    the dataset, the period and the caller's clauses and scopes (`released_under`, applied to both)."""
    _, params = released_under(query.clause_refs, query.scopes)
    params |= {"dataset": dataset, "start": query.start, "end": query.end}
    if not query.areas:
        return "TRUE", params
    params["areas"] = list(query.areas)
    within = CODE_COLUMN[query.area_level or query.level]
    return f"(e.{within} = ANY(CAST(:areas AS text[])) OR e.{CODE_COLUMN[query.level]} IS NULL)", params


def domestic_abuse_sql(query: RepeatQuery) -> tuple[str, dict[str, Any]]:
    """The SQL of `domestic_abuse_repeats`, with its parameters (also for EXPLAIN)."""
    counted, params = _filters(query, POLICE_RECORDS)
    released = released_under(query.clause_refs, query.scopes)[0]
    sql = f"""
        WITH incident AS (
            SELECT e.event_id, e.period_start, e.period_month, e.{CODE_COLUMN[query.level]} AS area_code,
                   e.attributes ->> 'victim_pseudonym' AS victim, {counted} AS counted
            FROM event e
            WHERE e.dataset = :dataset
              AND e.period_month BETWEEN CAST(CAST(:start AS date) - interval '12 months' AS date) AND :end
              AND {released} AND e.attributes -> 'domestic_abuse' = 'true'::jsonb
        ), ordered AS (
            SELECT i.*, lag(i.period_start) OVER (PARTITION BY i.victim ORDER BY i.period_start, i.event_id)
                   AS previous
            FROM incident i
        )
        SELECT area_code, period_month, count(*),
               count(*) FILTER (WHERE victim IS NOT NULL AND previous >= period_start - interval '12 months'),
               count(*) FILTER (WHERE victim IS NULL)
        FROM ordered WHERE counted AND period_month BETWEEN :start AND :end
        GROUP BY 1, 2 ORDER BY 1 NULLS LAST, 2"""
    return sql, params


def domestic_abuse_repeats(session: Session, query: RepeatQuery) -> list[DomesticAbuseCell]:
    """Domestic abuse incidents, repeat incidents and incidents without a victim pseudonym by area and month."""
    sql, params = domestic_abuse_sql(query)
    return [DomesticAbuseCell(r[0], r[1], int(r[2]), int(r[3]), int(r[4])) for r in session.execute(text(sql), params)]


def marac_sql(query: RepeatQuery, by_marac: bool, by_area: bool) -> tuple[str, dict[str, Any]]:
    """The SQL of `marac_repeats`, with its parameters (also for EXPLAIN)."""
    counted, params = _filters(query, MARAC_CASES)
    released = released_under(query.clause_refs, query.scopes)[0]
    marac = "c.marac" if by_marac else "NULL::text"
    area = "c.area_code" if by_area else "NULL::text"
    sql = f"""
        WITH heard AS (
            SELECT e.event_id, e.period_start AS day, e.period_month, e.{CODE_COLUMN[query.level]} AS area_code,
                   e.attributes ->> 'marac_area' AS marac, e.attributes ->> 'victim_pseudonym' AS victim,
                   e.attributes ->> 'perpetrator_pseudonym' AS perpetrator,
                   e.category = 'information-only' AS information_only, {counted} AS counted
            FROM event e
            WHERE e.dataset = :dataset
              AND e.period_month BETWEEN CAST(CAST(:start AS date) - interval '23 months' AS date) AND :end
              AND {released}
        ), linkable AS (
            SELECT h.*, NOT h.information_only AND h.victim IS NOT NULL AND h.perpetrator IS NOT NULL
                   AND h.marac IS NOT NULL AS linked
            FROM heard h
        ), cases AS (
            SELECT l.*, l.linked AND lag(l.day) OVER (
                       PARTITION BY l.linked, l.victim, l.perpetrator, l.marac ORDER BY l.day, l.event_id
                   ) >= l.day - interval '12 months' AS repeat
            FROM linkable l
        ), period AS (
            SELECT CAST(m AS date) AS last_month, CAST(m - interval '11 months' AS date) AS first_month
            FROM generate_series(CAST(:start AS date), CAST(:end AS date), interval '1 month') AS m
        )
        SELECT {marac}, {area}, p.last_month,
               count(*) FILTER (WHERE NOT c.information_only),
               count(*) FILTER (WHERE c.repeat),
               count(*) FILTER (WHERE NOT c.information_only AND NOT c.linked),
               count(*) FILTER (WHERE c.information_only)
        FROM period p JOIN cases c ON c.period_month BETWEEN p.first_month AND p.last_month
        WHERE c.counted
        GROUP BY 1, 2, 3 ORDER BY 1 NULLS LAST, 2 NULLS LAST, 3"""
    return sql, params


def marac_repeats(
    session: Session, query: RepeatQuery, by_marac: bool = True, by_area: bool = False
) -> list[MaracCell]:
    """MARAC cases, repeat cases, unlinkable cases and information-only referrals per rolling 12 months."""
    if not (by_marac or by_area):
        raise ValueError("group by MARAC area, by area, or both")
    sql, params = marac_sql(query, by_marac, by_area)
    return [
        MaracCell(r[0], r[1], r[2], int(r[3]), int(r[4]), int(r[5]), int(r[6]))
        for r in session.execute(text(sql), params)
    ]
