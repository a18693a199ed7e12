"""Where the hub can place a record, computed independently (shapely over the shared ward and Code-Point files), for
the tests of feeds released under clauses scoped to their recipients' areas."""

from __future__ import annotations

import csv
from collections.abc import Callable, Collection
from pathlib import Path

import shapely

from tests.support.open_data import CODEPOINT
from tests.support.police_points import load_wards

# A grid reference (easting, northing) or a postcode ("" when the record gives neither).
Place = tuple[str, str] | str


def placer(shared_data: Path, districts: Collection[str]) -> Callable[[Place], bool]:
    """Whether a place (a grid reference, else a Code-Point postcode's point) lies in a ward of `districts`."""
    wards = load_wards(shared_data)
    with (shared_data / CODEPOINT).open(encoding="utf-8", newline="") as handle:
        grid = {
            r["Postcode"].replace(" ", "").upper(): (r["Eastings"], r["Northings"])
            for r in csv.DictReader(handle)
            if r["Admin_district_code"] in districts
        }

    def inside(place: Place) -> bool:
        point = grid.get(place.replace(" ", "").upper()) if isinstance(place, str) else place
        if point is None or not all(value and float(value) for value in point):
            return False
        at = shapely.Point(float(point[0]), float(point[1]))
        hits = [wards.codes[i] for i in wards.tree.query(at) if wards.polygons[wards.codes[i]].covers(at)]
        return any(wards.lads[code] in districts for code in hits)

    return inside
