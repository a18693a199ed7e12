"""What the release record holds: the figures released to organisations (read back for the IG view and the
differencing guard)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from sharing_protocols.release_record import ReleasedFigure

_COLUMNS = (
    "at, org, dataset, level, areas, categories, first_month, last_month, period, value, min_cell_count, round_to, "
    "clauses"
)


@dataclass(frozen=True)
class Release:
    """One figure released to `org` at `at`."""

    at: datetime
    org: str
    figure: ReleasedFigure


def _release(row: Sequence[Any]) -> Release:
    at, org, dataset, level, areas, categories, first, last, period, value, min_cell_count, round_to, clauses = row
    figure = ReleasedFigure(
        dataset=dataset,
        level=level,
        areas=frozenset(areas),
        categories=None if categories is None else frozenset(categories),
        first=first,
        last=last,
        period=period,
        value=value,
        min_cell_count=min_cell_count,
        round_to=round_to,
        clauses=tuple(clauses),
    )
    return Release(at, org, figure)


def releases(session: Session, org: str | None, first: date, last: date) -> list[Release]:
    """Figures released on days first..last (to one organisation, or to all), in the order they were released."""
    rows = session.execute(
        text(
            f"SELECT {_COLUMNS} FROM released_figure WHERE (:all OR org = :org) "
            "AND at >= :first AND at < CAST(:last AS date) + 1 ORDER BY id"
        ),
        {"all": org is None, "org": org, "first": first, "last": last},
    ).all()
    return [_release(r) for r in rows]


def earlier_figures(session: Session, org: str, datasets: Sequence[str], level: str) -> list[ReleasedFigure]:
    """Every figure of `datasets` at `level` released to `org` so far (the differencing guard's history)."""
    rows = session.execute(
        text(
            f"SELECT {_COLUMNS} FROM released_figure WHERE org = :org AND dataset = ANY(:datasets) AND level = :level "
            "ORDER BY id"
        ),
        {"org": org, "datasets": list(datasets), "level": level},
    ).all()
    return [_release(r).figure for r in rows]
