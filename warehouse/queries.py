"""Analyst queries over the warehouse."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import text
from sqlalchemy.orm import Session


class Level(StrEnum):
    """Geographic level of an aggregate."""

    ward = "ward"
    lsoa = "lsoa"
    lad = "lad"


# The event column holding each level's code, and how a grouped row `s` (code, vintage) finds its name.
_CODE = {Level.ward: "e.ward_code", Level.lsoa: "e.lsoa_code", Level.lad: "e.district_code"}
_NAME = {
    Level.ward: "(SELECT a.name FROM area a WHERE a.vintage = s.vintage AND a.code = s.code)",
    Level.lsoa: "NULL",  # LSOA names arrive with the LSOA boundaries; the code stands in
    Level.lad: "(SELECT a.properties->>'lad_name' FROM area a WHERE a.level = 'ward' "
    "AND a.properties->>'lad_code' = s.code LIMIT 1)",
}


@dataclass(frozen=True)
class CountRow:
    """Events in one area, category and month."""

    area_code: str
    area_name: str
    category: str | None
    period: str
    count: int


@dataclass(frozen=True)
class UnlocatedRow:
    """Events that could not be placed at the level, by why."""

    reason: str
    category: str | None
    period: str
    count: int


def count_events(
    session: Session,
    dataset: str,
    level: Level,
    start: date,
    end: date,
    by_category: bool,
    clause_refs: Sequence[str],
) -> tuple[list[CountRow], list[UnlocatedRow]]:
    """Counts per area and month (and category) of the events released under any of `clause_refs`."""
    code = _CODE[level]
    category = "e.category" if by_category else "NULL::text"
    params = {"dataset": dataset, "start": start, "end": end, "refs": list(clause_refs)}
    where = "e.dataset = :dataset AND e.period_month BETWEEN :start AND :end AND e.protocols && CAST(:refs AS text[])"
    located = session.execute(
        text(
            f"""
            SELECT code, {_NAME[level]} AS name, category, period, n FROM (
                SELECT {code} AS code, min(e.ward_vintage) AS vintage, {category} AS category,
                       to_char(e.period_month, 'YYYY-MM') AS period, count(*) AS n
                FROM event e WHERE {where} AND {code} IS NOT NULL
                GROUP BY {code}, e.period_month, 3
            ) s ORDER BY code, period, category
            """
        ),
        params,
    ).all()
    unlocated = session.execute(
        text(
            f"""
            SELECT CASE WHEN e.location_status = 'located' THEN 'no_{level.value}_code' ELSE e.location_status END,
                   {category}, to_char(e.period_month, 'YYYY-MM'), count(*)
            FROM event e WHERE {where} AND {code} IS NULL
            GROUP BY 1, 2, 3 ORDER BY 1, 3, 2
            """
        ),
        params,
    ).all()
    return (
        [CountRow(r[0], r[1] or r[0], r[2], r[3], r[4]) for r in located],
        [UnlocatedRow(r[0], r[1], r[2], r[3]) for r in unlocated],
    )
