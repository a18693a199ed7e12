"""Reference data loaded into a test hub's warehouse: boundaries, lookups, postcodes and population, as a module needs.

The one place the tests load shared reference files; modules name what they need and `load_reference` loads it in
the order the hub needs (areas, then lookups, then postcodes, then population).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.support.open_data import (
    LAD_CSP_PFA_LOOKUP,
    LADS_2024,
    LSOA_WARD_LOOKUP,
    LSOAS_2011,
    LSOAS_2021,
    SHARED_DATA,
    WARD_LAD_LOOKUP,
    WARDS_2013,
    WARDS_2024,
)
from warehouse.reference.boundaries import load_areas, read_areas
from warehouse.reference.lookups import load_lookup
from warehouse.reference.population import load_population
from warehouse.reference.postcodes import PostcodeLoad, load_postcodes

LOOKUPS_VINTAGE = "lookups-2024"
WARD_LOOKUPS = (WARD_LAD_LOOKUP, LAD_CSP_PFA_LOOKUP)  # ward -> district -> CSP and PFA
ALL_LOOKUPS = (WARD_LAD_LOOKUP, LSOA_WARD_LOOKUP, LAD_CSP_PFA_LOOKUP)  # and LSOA -> ward


@dataclass(frozen=True)
class Boundaries:
    """A shared boundary file loaded as one vintage of areas (code and name fields detected when None)."""

    path: str
    vintage: str
    level: str
    code_field: str | None = None
    name_field: str | None = None
    source: str | None = None  # recorded with the vintage ("not given" when None)


WARDS_2024_AREAS = Boundaries(WARDS_2024, "wards-2024", "ward", "ward_code", "ward_name")
WARDS_2013_AREAS = Boundaries(WARDS_2013, "wards-2013", "ward")
LSOAS_2021_AREAS = Boundaries(LSOAS_2021, "lsoa-2021", "lsoa")
LSOAS_2011_AREAS = Boundaries(LSOAS_2011, "lsoa-2011", "lsoa")
LADS_2024_AREAS = Boundaries(LADS_2024, "lad-2024", "lad")


def load_reference(
    url: str,
    *,
    areas: Sequence[Boundaries] = (),
    lookups: Sequence[str] = (),
    postcodes: str | None = None,
    population: bool = False,
    data: Path = SHARED_DATA,
) -> PostcodeLoad | None:
    """Load into the warehouse at `url` the `areas`, the `lookups` (as LOOKUPS_VINTAGE), the Code-Point file
    `postcodes` and the ONS population files, all from the shared data; returns the postcode load, if any."""
    for boundaries in areas:
        records = read_areas(data / boundaries.path, boundaries.code_field, boundaries.name_field, boundaries.level)
        load_areas(records, boundaries.vintage, boundaries.level, url, boundaries.source)
    for lookup in lookups:
        load_lookup(data / lookup, LOOKUPS_VINTAGE, url)
    loaded = None if postcodes is None else load_postcodes(data / postcodes, "codepoint", url)
    if population:
        load_population(data, url)
    return loaded
