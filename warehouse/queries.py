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
    csp = "csp"
    county = "county"
    pfa = "pfa"


# The event column holding each level's code, and how a grouped row `s` (code, vintage) finds its name.
_CODE = {
    Level.ward: "e.ward_code",
    Level.lsoa: "e.lsoa_code",
    Level.lad: "e.district_code",
    Level.csp: "e.csp_code",
    Level.county: "e.county_code",
    Level.pfa: "e.pfa_code",
}


def _ward_property(code: str, name: str) -> str:
    """The name a ward file's properties give a parent area (its lad_name for a lad_code, ...)."""
    return (
        f"(SELECT a.properties->>'{name}' FROM area a "
        f"WHERE a.level = 'ward' AND a.properties->>'{code}' = s.code LIMIT 1)"
    )


_NAME = {
    Level.ward: "(SELECT a.name FROM area a WHERE a.vintage = s.vintage AND a.code = s.code)",
    Level.lsoa: "(SELECT a.name FROM area a WHERE a.level = 'lsoa' AND a.code = s.code LIMIT 1)",
    Level.lad: _ward_property("lad_code", "lad_name"),
    Level.county: _ward_property("county_code", "county_name"),
    Level.csp: "NULL",  # no CSP names are loaded: the code stands in
    Level.pfa: "NULL",
}
# Re-aggregation of stored points into another ward vintage: the stored ward when the vintage is the event's own,
# else the smallest-coded ward of that vintage holding the point (none when no point was released).
_WARD_OF_VINTAGE = """CASE WHEN e.ward_vintage = :vintage THEN e.ward_code
    WHEN e.geom IS NULL THEN NULL
    ELSE (SELECT a.code FROM area a WHERE a.vintage = :vintage AND a.level = 'ward'
          AND ST_Intersects(a.geom, e.geom) ORDER BY a.code LIMIT 1) END"""


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
    vintage: str | None = None,
) -> tuple[list[CountRow], list[UnlocatedRow]]:
    """Counts per area and month (and category) of the events released under any of `clause_refs`.

    With `vintage` (ward level only), stored points are re-aggregated to that ward vintage.
    """
    code = _WARD_OF_VINTAGE if vintage else _CODE[level]
    category = "e.category" if by_category else "NULL::text"
    params = {"dataset": dataset, "start": start, "end": end, "refs": list(clause_refs), "vintage": vintage}
    where = "e.dataset = :dataset AND e.period_month BETWEEN :start AND :end AND e.protocols && CAST(:refs AS text[])"
    name = _NAME[level].replace("a.vintage = s.vintage", "a.vintage = :vintage") if vintage else _NAME[level]
    placed = f"SELECT e.*, {code} AS area_code FROM event e WHERE {where}"
    located = session.execute(
        text(
            f"""
            WITH placed AS ({placed})
            SELECT code, {name} AS name, category, period, n FROM (
                SELECT e.area_code AS code, min(e.ward_vintage) AS vintage, {category} AS category,
                       to_char(e.period_month, 'YYYY-MM') AS period, count(*) AS n
                FROM placed e WHERE e.area_code IS NOT NULL
                GROUP BY e.area_code, e.period_month, 3
            ) s ORDER BY code, period, category
            """
        ),
        params,
    ).all()
    no_code = (
        "CASE WHEN e.geom IS NULL THEN 'no_point_for_vintage' ELSE 'outside_coverage' END"
        if vintage
        else f"'no_{level.value}_code'"
    )
    unlocated = session.execute(
        text(
            f"""
            WITH placed AS ({placed})
            SELECT CASE WHEN e.location_status = 'located' THEN {no_code} ELSE e.location_status END,
                   {category}, to_char(e.period_month, 'YYYY-MM'), count(*)
            FROM placed e WHERE e.area_code IS NULL
            GROUP BY 1, 2, 3 ORDER BY 1, 3, 2
            """
        ),
        params,
    ).all()
    return (
        [CountRow(r[0], r[1] or r[0], r[2], r[3], r[4]) for r in located],
        [UnlocatedRow(r[0], r[1], r[2], r[3]) for r in unlocated],
    )
