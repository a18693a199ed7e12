"""The geocoder over what the warehouse holds: its areas, lookups and postcodes read into `geography.geocoder`."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, cast

import shapely

from geography.geocoder import AreaCodes, AreaIndex, Geocoder, PostcodeIndex
from geography.settings import GeocoderSettings
from warehouse.reference.lookups import rollup
from warehouse.schema.db import connect_raw

# How each level is reached from a ward through the lookups (a force through its CSP, else directly from the district).
_CHAINS: dict[str, tuple[tuple[str, ...], ...]] = {
    "lad": (("ward", "lad"),),
    "csp": (("ward", "lad", "csp"),),
    "county": (("ward", "lad", "county"),),
    "pfa": (("ward", "lad", "csp", "pfa"), ("ward", "lad", "pfa")),
}


def read_area_index(level: str, vintage: str, url: str) -> AreaIndex:
    """One level and vintage of the `area` table, indexed (with each area's lad_code, if any)."""
    with connect_raw(url) as conn:
        rows = conn.execute(
            "SELECT code, ST_AsBinary(geom), properties->>'lad_code' FROM area WHERE vintage = %s AND level = %s",
            (vintage, level),
        ).fetchall()
    if not rows:
        raise LookupError(f"the warehouse holds no {level} areas of vintage {vintage!r}: load them with `hub geo load`")
    codes = [str(r[0]) for r in rows]
    geoms = list(shapely.from_wkb([bytes(cast(bytes, r[1])) for r in rows]))
    return AreaIndex(level, vintage, codes, geoms, {str(r[0]): str(r[2]) for r in rows if r[2]})


def read_postcode_index(url: str) -> PostcodeIndex:
    """Every loaded postcode (Code-Point or ONSPD), indexed."""
    with connect_raw(url) as conn:
        rows: list[tuple[Any, ...]] = conn.execute(
            "SELECT postcode_norm, easting, northing, quality FROM postcode"
        ).fetchall()
    return PostcodeIndex.build(
        {str(r[0]): (float(r[1]), float(r[2]), None if r[3] is None else int(r[3])) for r in rows}
    )


def read_area_codes(lookup_vintage: str | None, url: str) -> AreaCodes:
    """LSOA -> ward edges of `lookup_vintage`, and ST_PointOnSurface of every loaded LSOA and district."""
    lsoa_wards = rollup(lookup_vintage, ("lsoa", "ward"), url) if lookup_vintage else {}
    with connect_raw(url) as conn:
        rows: list[tuple[Any, ...]] = conn.execute(
            "SELECT DISTINCT ON (code) code, ST_X(p), ST_Y(p) FROM "
            "(SELECT code, vintage, ST_PointOnSurface(geom) AS p FROM area WHERE level IN ('lsoa', 'lad')) a "
            "ORDER BY code, vintage DESC"
        ).fetchall()
    return AreaCodes(lsoa_wards, {str(r[0]): (float(r[1]), float(r[2])) for r in rows})


def ward_rollups(vintage: str, url: str) -> dict[str, dict[str, str]]:
    """ward -> {lad, csp, county, pfa} from the lookups of `vintage` (smallest parent code where several)."""
    out: dict[str, dict[str, str]] = {}
    for level, chains in _CHAINS.items():
        for chain in reversed(chains):  # the first chain listed wins
            for ward, code in rollup(vintage, chain, url).items():
                out.setdefault(ward, {})[level] = code
    return out


def geocoder_from_warehouse(
    ward_vintage: str, lsoa_vintage: str | None, lookup_vintage: str | None, url: str
) -> Geocoder:
    """The geocoder over what the warehouse holds; LSOAs, lookups and postcodes are used when loaded."""
    wards = read_area_index("ward", ward_vintage, url)
    lsoas = None
    if lsoa_vintage:
        try:
            lsoas = read_area_index("lsoa", lsoa_vintage, url)
        except LookupError:
            lsoas = None
    rollups = ward_rollups(lookup_vintage, url) if lookup_vintage else {}
    postcodes = read_postcode_index(url)
    area_codes = read_area_codes(lookup_vintage, url)
    return Geocoder(wards, lsoas, rollups or None, postcodes if postcodes.units else None, area_codes)


class Geocoders:
    """Warehouse geocoders by ward vintage (LSOA and lookup vintages from `settings`), each built when first asked for.

    The `keep` most recently used are kept. A vintage with no wards loaded raises LookupError and is not kept.
    """

    def __init__(self, url: str, settings: GeocoderSettings, keep: int = 4) -> None:
        self.settings = settings
        self._url = url
        self._keep = keep
        self._built: OrderedDict[str, Geocoder] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, vintage: str | None = None) -> Geocoder:
        """The geocoder for `vintage` (default: the configured ward vintage)."""
        vintage = vintage or self.settings.ward_vintage
        with self._lock:
            if vintage not in self._built:
                self._built[vintage] = geocoder_from_warehouse(
                    vintage, self.settings.lsoa_vintage, self.settings.lookup_vintage, self._url
                )
                while len(self._built) > self._keep:
                    self._built.popitem(last=False)
            self._built.move_to_end(vintage)
            return self._built[vintage]
