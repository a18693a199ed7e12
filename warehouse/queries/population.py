"""Population denominators for rates: the latest loaded figure per area, and which ones there are."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Denominator:
    """An area's denominator: the figure, its year, the ONS product it comes from and how it was derived."""

    population: Decimal
    year: int
    source: str
    method: str


def denominators(session: Session, level: str, codes: Sequence[str], sex: str, age_band: str) -> dict[str, Denominator]:
    """Each area's denominator of that sex and age band, from the latest year it has; areas without one are absent."""
    rows = session.execute(
        text(
            "SELECT DISTINCT ON (area_code) area_code, population, year, source, method FROM population "
            "WHERE level = :level AND area_code = ANY(:codes) AND sex = :sex AND age_band = :age_band "
            "ORDER BY area_code, year DESC"
        ),
        {"level": level, "codes": list(codes), "sex": sex, "age_band": age_band},
    ).all()
    return {
        str(r.area_code): Denominator(Decimal(r.population), int(r.year), str(r.source), str(r.method)) for r in rows
    }


def available_denominators(session: Session, level: str) -> list[tuple[str, str]]:
    """The (sex, age band) pairs that have a denominator for some area of `level`."""
    rows = session.execute(
        text("SELECT DISTINCT sex, age_band FROM population WHERE level = :level ORDER BY sex, age_band"),
        {"level": level},
    ).all()
    return [(str(r.sex), str(r.age_band)) for r in rows]
