"""Population denominators into the `population` table (the figures: `warehouse.reference.population_estimates`)."""

from __future__ import annotations

from pathlib import Path

from warehouse.reference.population_estimates import PopulationFileError, PopulationLoad, read_population
from warehouse.schema.db import connect_raw


def load_population(data: Path, url: str) -> PopulationLoad:
    """Load the denominators, replacing the rows of every (level, year, sex, age band) loaded; returns a summary."""
    estimates, summary = read_population(data)
    keys = sorted({(e.level, e.year, e.sex, e.age_band) for e in estimates})
    if not keys:
        raise PopulationFileError(f"{data}: no population figures found")
    with connect_raw(url) as conn, conn.cursor() as cur:
        cur.execute(
            "DELETE FROM population p USING unnest(%s::text[], %s::int[], %s::text[], %s::text[]) "
            "AS k(level, year, sex, age_band) "
            "WHERE p.level = k.level AND p.year = k.year AND p.sex = k.sex AND p.age_band = k.age_band",
            [list(column) for column in zip(*keys, strict=True)],
        )
        with cur.copy(
            "COPY population (level, area_code, year, sex, age_band, population, source, method) FROM STDIN"
        ) as copy:
            for e in estimates:
                copy.write_row((e.level, e.area_code, e.year, e.sex, e.age_band, e.population, e.source, e.method))
    return summary
