"""The shared-data reference files that `hub demo` (and the benchmarks) load: boundaries, lookups, postcodes."""

from __future__ import annotations

from pathlib import Path

from warehouse.reference.boundaries import load_areas, read_areas
from warehouse.reference.lookups import load_lookup

# (file under the shared data directory, vintage)
WARDS = ("boundaries/wards_2024_bsc_epsg27700.geojson", "wards-2024")
LSOAS = ("boundaries/lsoa_2021_epsg4326.geojson", "lsoa-2021")
LOOKUPS = (
    "lookups/ward24_lad24_ctyua24.csv",
    "lookups/lsoa21_ward24_lad24.csv",
    "lookups/lad24_csp24_pfa24_england_wales.csv",
)
POSTCODES = "postcodes/codepoint_open_2014_08.csv"


def load_areas_and_lookups(data: Path, url: str, lookup_vintage: str) -> tuple[int, int]:
    """The wards, the LSOAs and the area lookups of the shared `data`; the numbers of wards and LSOAs loaded."""
    wards_file, wards_vintage = WARDS
    wards = load_areas(read_areas(data / wards_file, "ward_code", "ward_name"), wards_vintage, "ward", url, wards_file)
    lsoa_file, lsoa_vintage = LSOAS
    lsoas = load_areas(read_areas(data / lsoa_file, level="lsoa"), lsoa_vintage, "lsoa", url, lsoa_file)
    for lookup in LOOKUPS:
        load_lookup(data / lookup, lookup_vintage, url)
    return wards, lsoas
