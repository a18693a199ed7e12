"""The hub's geocoder: points, grid references or postcodes to ward, LSOA, district, CSP, county and force.

Everything is held in memory (shapely STRtree over prepared polygons, dicts for postcodes and roll-ups) and
answered in bulk; it is built from plain codes, shapes and mappings (`warehouse.reference.geocoder_data` reads
them out of the warehouse). A point on a shared edge goes to the area with the smallest code, so the answer never
depends on load order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, cast

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from sharing_protocols.envelope import AreaLocation, BngPoint, PostcodeLocation, Wgs84Point
from sharing_protocols.postcode_format import compact, district, outward, sector

_TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)

Method = Literal["point_in_polygon", "postcode_centroid", "sector_centroid", "district_centroid", "area_lookup"]
Unmatched = Literal["no_location", "outside_coverage", "invalid_postcode", "unknown_postcode", "unknown_area"]
Location = Wgs84Point | BngPoint | PostcodeLocation | AreaLocation | None
# Quality grades, best first: coordinates given; a postcode's own centroid (Code-Point quality 10-20, then
# 30-60); its sector's centroid; its district's centroid; an area code (the area's best-fit ward, or no ward).
QUALITY = {"point": 1, "postcode": 2, "postcode_approximate": 3, "sector": 4, "district": 5, "area": 6}


def wgs84_to_bng(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Longitude/latitude arrays to British National Grid easting/northing arrays (Helmert, within ~3 m)."""
    easting, northing = _TO_BNG.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(easting), np.asarray(northing)


class AreaIndex:
    """The areas of one level and vintage, indexed for bulk point-in-polygon lookup."""

    def __init__(
        self,
        level: str,
        vintage: str,
        codes: Sequence[str],
        geoms: Sequence[BaseGeometry],
        parents: Mapping[str, str] | None = None,
    ) -> None:
        if not codes:
            raise ValueError(f"no {level} areas of vintage {vintage!r} to index")
        order = sorted(range(len(codes)), key=lambda i: codes[i])
        self.level = level
        self.vintage = vintage
        self.parents: Mapping[str, str] = dict(parents or {})
        self.codes: npt.NDArray[np.object_] = np.array([codes[i] for i in order], dtype=object)
        self._geoms = np.array([geoms[i] for i in order], dtype=object)
        shapely.prepare(self._geoms)
        self._tree = shapely.STRtree(self._geoms)

    def locate(self, easting: npt.ArrayLike, northing: npt.ArrayLike) -> list[str | None]:
        """The code of the area holding each point, or None where none does."""
        x = np.asarray(easting, dtype=float)
        y = np.asarray(northing, dtype=float)
        if x.size == 0:
            return []
        point_idx, area_idx = self._tree.query(shapely.points(x, y), predicate="intersects")
        best = np.full(x.size, len(self.codes), dtype=np.int64)
        np.minimum.at(best, point_idx, area_idx)
        return [None if i == len(self.codes) else str(self.codes[i]) for i in best]


@dataclass(frozen=True)
class PostcodeIndex:
    """Postcode centroids (EPSG:27700) with their Code-Point quality, and sector and district centroids."""

    units: Mapping[str, tuple[float, float, int | None]]
    sectors: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    districts: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    @classmethod
    def build(cls, units: Mapping[str, tuple[float, float, int | None]]) -> PostcodeIndex:
        """The index, with each sector and district centroid the mean of its postcodes."""
        groups: dict[str, dict[str, list[tuple[float, float]]]] = {"sector": {}, "district": {}}
        for code, (x, y, _) in units.items():
            full = f"{code[:-3]} {code[-3:]}"
            for kind, key in (("sector", sector(full)), ("district", district(full))):
                if key:
                    groups[kind].setdefault(key, []).append((x, y))

        def centre(points: list[tuple[float, float]]) -> tuple[float, float]:
            return sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)

        return cls(
            dict(units),
            {k: centre(v) for k, v in groups["sector"].items()},
            {k: centre(v) for k, v in groups["district"].items()},
        )

    def lookup(self, postcode: str) -> tuple[float, float, Method, int] | Unmatched:
        """The best centroid for a postcode (its own, else its sector's, else its district's), or why none."""
        key = compact(postcode)
        alone = outward(postcode)
        if key is None and alone:  # an outward code alone: the postcode district's centroid
            found = self.districts.get(alone)
            return (*found, "district_centroid", QUALITY["district"]) if found else "unknown_postcode"
        if key is None:
            return "invalid_postcode"
        unit = self.units.get(key)
        if unit is not None:
            grade = QUALITY["postcode"] if unit[2] is None or unit[2] <= 20 else QUALITY["postcode_approximate"]
            return unit[0], unit[1], "postcode_centroid", grade
        full = f"{key[:-3]} {key[-3:]}"
        for kind, method, table in (
            ("sector", "sector_centroid", self.sectors),
            ("district", "district_centroid", self.districts),
        ):
            code = sector(full) if kind == "sector" else district(full)
            if code and code in table:
                x, y = table[code]
                return x, y, cast(Method, method), QUALITY[kind]
        return "unknown_postcode"


_Points = tuple[
    npt.NDArray[np.float64], npt.NDArray[np.float64], list[Method | None], list[int | None], list[Unmatched | None]
]


@dataclass(frozen=True, slots=True)
class GeocodeResult:
    """Where one input fell: the point, its areas by level, the ward vintage, method and quality; or why not.

    `areas` is read-only: the results of one call that fall in the same ward and LSOA share one mapping.
    """

    x: float | None
    y: float | None
    areas: Mapping[str, str]
    vintage: str | None
    method: Method | None
    quality: int | None
    unmatched: Unmatched | None


@dataclass(frozen=True)
class AreaCodes:
    """What resolves a bare area code: LSOA -> ward from the lookups, and a point inside each loaded area."""

    lsoa_wards: Mapping[str, str] = field(default_factory=dict)
    points: Mapping[str, tuple[float, float]] = field(default_factory=dict)


class Geocoder:
    """Bulk geocoding to ward (point-in-polygon), LSOA (point-in-polygon, when loaded) and their roll-ups.

    Area codes (an LSOA, ward or district a partner gives instead of a place) resolve through the lookups: an
    LSOA to its best-fit ward (or, without a lookup edge, the ward holding a point inside the LSOA), a ward or
    district to the levels above it. They get no point.
    """

    def __init__(
        self,
        wards: AreaIndex,
        lsoas: AreaIndex | None = None,
        rollups: Mapping[str, Mapping[str, str]] | None = None,
        postcodes: PostcodeIndex | None = None,
        area_codes: AreaCodes | None = None,
    ) -> None:
        self.wards = wards
        self.lsoas = lsoas
        self.postcodes = postcodes
        self.area_codes = area_codes or AreaCodes()
        # ward -> {lad, csp, county, pfa}; without lookups, the ward file's own lad_code.
        self.rollups: Mapping[str, Mapping[str, str]] = rollups or {
            code: {"lad": lad} for code, lad in wards.parents.items()
        }
        # district -> {lad, csp, county, pfa}: what every ward of the district rolls up to above it.
        self.lad_rollups: dict[str, dict[str, str]] = {}
        for parents in self.rollups.values():
            if "lad" in parents:
                self.lad_rollups.setdefault(parents["lad"], dict(parents))

    @property
    def vintage(self) -> str:
        return self.wards.vintage

    def _points(self, locations: Sequence[Location]) -> _Points:
        n = len(locations)
        x, y = np.full(n, np.nan), np.full(n, np.nan)
        methods: list[Method | None] = [None] * n
        quality: list[int | None] = [None] * n
        reasons: list[Unmatched | None] = [None] * n
        wgs = [i for i, loc in enumerate(locations) if isinstance(loc, Wgs84Point)]
        if wgs:
            x[wgs], y[wgs] = wgs84_to_bng(
                [cast(Wgs84Point, locations[i]).lon for i in wgs], [cast(Wgs84Point, locations[i]).lat for i in wgs]
            )
        for i, loc in enumerate(locations):
            if isinstance(loc, BngPoint):
                x[i], y[i] = loc.easting, loc.northing
            if isinstance(loc, Wgs84Point | BngPoint):
                methods[i], quality[i] = "point_in_polygon", QUALITY["point"]
            elif isinstance(loc, PostcodeLocation):
                found = self.postcodes.lookup(loc.postcode) if self.postcodes else "unknown_postcode"
                if isinstance(found, str):
                    reasons[i] = found
                else:
                    x[i], y[i], methods[i], quality[i] = found
            else:
                reasons[i] = "no_location"
        return x, y, methods, quality, reasons

    def _area(self, location: AreaLocation) -> GeocodeResult:
        """An area code resolved to the levels at and above it (no point)."""
        areas: dict[str, str] = {}
        code = location.code
        if location.level == "lad" and (code in self.lad_rollups or code in self.area_codes.points):
            areas = {"lad": code, **self.lad_rollups.get(code, {})}
        elif location.level == "ward" and code in self.rollups:
            areas = {"ward": code, **self.rollups[code]}
        elif location.level == "lsoa":
            ward = self.area_codes.lsoa_wards.get(code)
            if ward is None and code in self.area_codes.points:
                ward = self.wards.locate(*([v] for v in self.area_codes.points[code]))[0]
            if ward is not None or code in self.area_codes.points:
                areas = {"lsoa": code, **({"ward": ward, **self.rollups.get(ward, {})} if ward else {})}
        ward_code = areas.get("ward")
        return GeocodeResult(
            x=None,
            y=None,
            areas=areas,
            vintage=self.vintage if ward_code else None,
            method="area_lookup" if areas else None,
            quality=QUALITY["area"] if areas else None,
            unmatched=None if areas else "unknown_area",
        )

    def geocode(self, locations: Sequence[Location]) -> list[GeocodeResult]:
        """One result per location, in order."""
        by_area = {i: self._area(loc) for i, loc in enumerate(locations) if isinstance(loc, AreaLocation)}
        if by_area:
            rest = [i for i in range(len(locations)) if i not in by_area]
            placed = dict(zip(rest, self.geocode([locations[i] for i in rest]), strict=True))
            return [by_area[i] if i in by_area else placed[i] for i in range(len(locations))]
        x, y, methods, quality, reasons = self._points(locations)
        has = ~np.isnan(x)
        idx = np.flatnonzero(has).tolist()
        wards: list[str | None] = [None] * len(locations)
        lsoas: list[str | None] = [None] * len(locations)
        if idx:
            for i, code in zip(idx, self.wards.locate(x[has], y[has]), strict=True):
                wards[i] = code
            if self.lsoas is not None:
                for i, code in zip(idx, self.lsoas.locate(x[has], y[has]), strict=True):
                    lsoas[i] = code
        results = []
        shared: dict[tuple[str | None, str | None], Mapping[str, str]] = {}  # one mapping per ward and LSOA
        for i in range(len(locations)):
            ward, lsoa = wards[i], lsoas[i]
            areas = shared.get((ward, lsoa))
            if areas is None:
                found: dict[str, str] = {"ward": ward, **self.rollups.get(ward, {})} if ward else {}
                if lsoa:
                    found["lsoa"] = lsoa
                areas = shared[(ward, lsoa)] = MappingProxyType(found)
            point = bool(has[i])
            results.append(
                GeocodeResult(
                    x=float(x[i]) if point else None,
                    y=float(y[i]) if point else None,
                    areas=areas,
                    vintage=self.vintage if ward else None,
                    method=methods[i] if point else None,
                    quality=quality[i] if point else None,
                    unmatched=reasons[i] or (None if ward else "outside_coverage"),
                )
            )
        return results
