"""Reoffending cohorts (probation / IOM) by area, cohort and cohort period, over `event`.

A probation-iom event is one offender in one cohort (its category: iom-fixed, iom-flex or general) for one cohort
period (its `period_start`..`period_end`; the months only, when no clause releases the day). A cohort member is a
distinct offender pseudonym (an event without one is a member of its own) per area, cohort and period: a member
reoffended when any of their records says so, and their predicted rate is the mean of their records' predicted
reoffending rates (0-1). Only events released under the caller's clauses are read. Members with no code at the
level could not be linked to an area: they are returned with area_code None (whatever the area filter).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from warehouse.queries.aggregates import CODE_COLUMN, Level
from warehouse.queries.scope import ScopeFilter, released_under

PROBATION_IOM = "probation-iom"


@dataclass(frozen=True)
class CohortQuery:
    """Cohort periods starting in months `start`..`end` (day 1), the clauses, where and which cohorts."""

    level: Level
    start: date
    end: date
    clause_refs: tuple[str, ...]
    areas: tuple[str, ...] = ()  # only members in these areas (codes at `area_level`), and the unlinked
    area_level: Level | None = None  # defaults to `level`
    categories: tuple[str, ...] = ()  # only these cohorts
    scopes: tuple[ScopeFilter, ...] = ()  # events of these scoped clauses only inside their areas


@dataclass(frozen=True)
class CohortCell:
    """One cohort of one area (None: not linked to an area at the level) and cohort period."""

    area_code: str | None
    category: str
    period_start: date
    period_end: date
    offenders: int  # cohort size: distinct offenders
    reoffenders: int
    predicted_total: Decimal  # the sum of the members' predicted rates (0-1)
    predicted_members: int  # members with a predicted rate


def cohort_sql(query: CohortQuery) -> tuple[str, dict[str, Any]]:
    """The SQL of `cohort_cells`, with its parameters (also for EXPLAIN)."""
    released, params = released_under(query.clause_refs, query.scopes)
    params |= {"dataset": PROBATION_IOM, "start": query.start, "end": query.end}
    code = CODE_COLUMN[query.level]
    where = [
        "e.dataset = :dataset",
        "e.period_month BETWEEN :start AND :end",
        released,
    ]
    if query.areas:
        within = CODE_COLUMN[query.area_level or query.level]
        where.append(f"(e.{within} = ANY(CAST(:areas AS text[])) OR e.{code} IS NULL)")
        params["areas"] = list(query.areas)
    if query.categories:
        where.append("e.category = ANY(CAST(:categories AS text[]))")
        params["categories"] = list(query.categories)
    sql = f"""
        WITH member AS (
            SELECT e.{code} AS area_code, e.category, e.period_start, e.period_end,
                   coalesce(e.attributes ->> 'offender_pseudonym', CAST(e.event_id AS text)) AS offender,
                   bool_or(coalesce(CAST(e.attributes ->> 'reoffended' AS boolean), false)) AS reoffended,
                   avg(CAST(e.attributes ->> 'predicted_reoffending_rate' AS numeric)) AS predicted
            FROM event e
            WHERE {" AND ".join(where)}
            GROUP BY 1, 2, 3, 4, 5
        )
        SELECT area_code, category, period_start, period_end, count(*), count(*) FILTER (WHERE reoffended),
               coalesce(sum(predicted), 0), count(predicted)
        FROM member GROUP BY 1, 2, 3, 4 ORDER BY 1 NULLS LAST, 2, 3, 4"""
    return sql, params


def cohort_cells(session: Session, query: CohortQuery) -> list[CohortCell]:
    """Cohort size, reoffenders and the members' predicted rates per area, cohort and cohort period."""
    sql, params = cohort_sql(query)
    return [
        CohortCell(r[0], r[1], r[2], r[3], int(r[4]), int(r[5]), Decimal(r[6]), int(r[7]))
        for r in session.execute(text(sql), params)
    ]
