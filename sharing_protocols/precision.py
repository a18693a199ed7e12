"""Spatial and temporal precision: their order, and how an event's place and time are coarsened to them.

Spatial precisions, finest first, ranked by how many people one value typically covers (the levels do not all
nest, so this is a ranking, not containment): point (an exact EPSG:27700 point), grid_100m (a 100 m square),
lsoa (about 1,500 residents), postcode_sector (a few thousand addresses), ward (several thousand residents;
on average somewhat larger than a sector), district (a local authority district).
Temporal precisions, finest first: timestamp, day, month.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, get_args

from sharing_protocols.postcode_format import sector as postcode_sector

SpatialPrecision = Literal["point", "grid_100m", "lsoa", "postcode_sector", "ward", "district"]
TemporalPrecision = Literal["timestamp", "day", "month"]
AreaLevel = Literal["lsoa", "ward", "district"]

SPATIAL_PRECISIONS: tuple[SpatialPrecision, ...] = get_args(SpatialPrecision)
TEMPORAL_PRECISIONS: tuple[TemporalPrecision, ...] = get_args(TemporalPrecision)
AREA_LEVELS: tuple[AreaLevel, ...] = get_args(AreaLevel)

GRID_METRES = 100

# Which coarser levels a value at one precision determines exactly (LSOAs and wards nest in districts).
_DERIVABLE: Mapping[SpatialPrecision, frozenset[SpatialPrecision]] = {
    "point": frozenset(SPATIAL_PRECISIONS),
    "grid_100m": frozenset({"grid_100m"}),
    "lsoa": frozenset({"lsoa", "district"}),
    "postcode_sector": frozenset({"postcode_sector"}),
    "ward": frozenset({"ward", "district"}),
    "district": frozenset({"district"}),
}


def spatial_rank(precision: SpatialPrecision) -> int:
    """0 for the finest spatial precision (point), increasing to the coarsest (district)."""
    return SPATIAL_PRECISIONS.index(precision)


def temporal_rank(precision: TemporalPrecision) -> int:
    """0 for the finest temporal precision (timestamp), increasing to the coarsest (month)."""
    return TEMPORAL_PRECISIONS.index(precision)


def derivable(source: SpatialPrecision, target: SpatialPrecision) -> bool:
    """Whether values at `source` precision determine the `target` level exactly (e.g. ward -> district)."""
    return target in _DERIVABLE[source]


def grid_cell(x: float, y: float) -> tuple[float, float]:
    """The south-west corner of the 100 m British National Grid square holding (x, y)."""
    return float(math.floor(x / GRID_METRES) * GRID_METRES), float(math.floor(y / GRID_METRES) * GRID_METRES)


@dataclass(frozen=True, slots=True)
class Place:
    """A location at one precision: x/y metres (EPSG:27700) for point and grid_100m, else an area code."""

    precision: SpatialPrecision
    x: float | None = None
    y: float | None = None
    code: str | None = None

    def __str__(self) -> str:
        if self.code is not None:
            return f"{self.precision} {self.code}"
        return f"{self.precision} {self.x:.0f},{self.y:.0f}"


def coarsen_place(
    precision: SpatialPrecision,
    x: float | None,
    y: float | None,
    areas: Mapping[str, str],
    postcode: str | None,
) -> Place | None:
    """The place at exactly `precision`, or None when the event cannot supply that precision.

    point keeps x/y; grid_100m gives the cell's south-west corner; postcode_sector needs a full postcode;
    lsoa, ward and district need that area's code (no point is kept). Never falls back to another level.
    """
    if precision in ("point", "grid_100m"):
        if x is None or y is None:
            return None
        if precision == "point":
            return Place("point", x=x, y=y)
        cell_x, cell_y = grid_cell(x, y)
        return Place("grid_100m", x=cell_x, y=cell_y)
    if precision == "postcode_sector":
        code = postcode_sector(postcode) if postcode else None
        return Place("postcode_sector", code=code) if code else None
    code = areas.get(precision)
    return Place(precision, code=code) if code else None


def coarser_temporal(a: TemporalPrecision, b: TemporalPrecision) -> TemporalPrecision:
    """The coarser of two temporal precisions."""
    return a if temporal_rank(a) >= temporal_rank(b) else b


def coarsen_period(
    precision: TemporalPrecision,
    start: date,
    end: date,
    native: TemporalPrecision,
    occurred_at: datetime | None,
) -> tuple[str, TemporalPrecision]:
    """The occurrence time at `precision`, or at the event's own (`native`) precision when that is coarser.

    Returns the value and the precision applied: timestamp is ISO 8601 date-time; day "YYYY-MM-DD"; month
    "YYYY-MM". A period spanning several days (or months) becomes an ISO 8601 interval "start/end".
    """
    applied = coarser_temporal(precision, native)
    if applied == "timestamp" and occurred_at is None:
        applied = coarser_temporal("day", native)
    if applied == "timestamp" and occurred_at is not None:
        return occurred_at.isoformat(), "timestamp"
    if applied == "day":
        first, last = start.isoformat(), end.isoformat()
    else:
        first, last = f"{start:%Y-%m}", f"{end:%Y-%m}"
    return (first if first == last else f"{first}/{last}"), applied
