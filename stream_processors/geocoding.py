"""Bulk point-in-polygon assignment of events to wards, in memory (shapely STRtree)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from warehouse.db import connect_raw

_TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)


def wgs84_to_bng(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Longitude/latitude arrays to British National Grid easting/northing arrays."""
    easting, northing = _TO_BNG.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(easting), np.asarray(northing)


class WardIndex:
    """The wards of one boundary vintage, indexed for bulk lookup.

    A point on a shared edge (or in an overlap) goes to the ward with the smallest code, so the answer
    never depends on load order.
    """

    def __init__(
        self,
        vintage: str,
        codes: Sequence[str],
        geoms: Sequence[BaseGeometry],
        districts: Mapping[str, str] | None = None,
    ) -> None:
        if not codes:
            raise ValueError(f"no wards of vintage {vintage!r} to index")
        order = sorted(range(len(codes)), key=lambda i: codes[i])
        self.vintage = vintage
        self.districts: Mapping[str, str] = dict(districts or {})
        self.codes: npt.NDArray[np.object_] = np.array([codes[i] for i in order], dtype=object)
        self._geoms = np.array([geoms[i] for i in order], dtype=object)
        shapely.prepare(self._geoms)
        self._tree = shapely.STRtree(self._geoms)

    @classmethod
    def from_warehouse(cls, vintage: str, url: str | None = None) -> WardIndex:
        """Read the vintage's wards from the warehouse `area` table."""
        with connect_raw(url) as conn:
            rows = conn.execute(
                "SELECT code, ST_AsBinary(geom), properties->>'lad_code' FROM area "
                "WHERE vintage = %s AND level = 'ward'",
                (vintage,),
            ).fetchall()
        if not rows:
            raise LookupError(f"the warehouse holds no wards of vintage {vintage!r}: load them with `hub geo load`")
        codes = [str(r[0]) for r in rows]
        geoms = list(shapely.from_wkb([bytes(cast(bytes, r[1])) for r in rows]))
        return cls(vintage, codes, geoms, {str(r[0]): str(r[2]) for r in rows if r[2]})

    def locate(self, easting: npt.ArrayLike, northing: npt.ArrayLike) -> list[str | None]:
        """The ward code of each point, or None where no ward contains it."""
        x = np.asarray(easting, dtype=float)
        y = np.asarray(northing, dtype=float)
        if x.size == 0:
            return []
        points = shapely.points(x, y)
        point_idx, ward_idx = self._tree.query(points, predicate="intersects")
        best = np.full(x.size, len(self.codes), dtype=np.int64)
        np.minimum.at(best, point_idx, ward_idx)
        return [None if i == len(self.codes) else str(self.codes[i]) for i in best]
