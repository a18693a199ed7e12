"""Analyst queries over the warehouse."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import text
from sqlalchemy.orm import Session


class Level(StrEnum):
    """Geographic level of an aggregate."""

    ward = "ward"


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
    """Events that could not be placed in any area, by why."""

    reason: str
    category: str | None
    period: str
    count: int


def _group(by_category: bool) -> tuple[str, str]:
    return ("category", ", category") if by_category else ("NULL::text AS category", "")


def count_events(
    session: Session, dataset: str, level: Level, start: date, end: date, by_category: bool
) -> tuple[list[CountRow], list[UnlocatedRow]]:
    """Counts of events per area and month (and category), plus the unlocated counts beside them."""
    select_category, group_category = _group(by_category)
    params = {"dataset": dataset, "start": start, "end": end}
    located = session.execute(
        text(
            f"""
            SELECT e.ward_code, a.name, {select_category}, to_char(e.period_month, 'YYYY-MM'), count(*)
            FROM event e JOIN area a ON a.vintage = e.ward_vintage AND a.code = e.ward_code
            WHERE e.dataset = :dataset AND e.period_month BETWEEN :start AND :end AND e.ward_code IS NOT NULL
            GROUP BY e.ward_code, a.name, e.period_month{group_category}
            ORDER BY e.ward_code, e.period_month{group_category}
            """
        ),
        params,
    ).all()
    unlocated = session.execute(
        text(
            f"""
            SELECT location_status, {select_category}, to_char(period_month, 'YYYY-MM'), count(*)
            FROM event
            WHERE dataset = :dataset AND period_month BETWEEN :start AND :end AND ward_code IS NULL
            GROUP BY location_status, period_month{group_category}
            ORDER BY location_status, period_month{group_category}
            """
        ),
        params,
    ).all()
    return (
        [CountRow(r[0], r[1], r[2], r[3], r[4]) for r in located],
        [UnlocatedRow(r[0], r[1], r[2], r[3]) for r in unlocated],
    )
