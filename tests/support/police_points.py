"""Independent expectations for police.uk files: each row's ward from its coordinates and the ward file (shapely).

The hub places a point in the smallest-coded May 2024 ward covering it; these helpers do the same straight from the
shared files, without the hub's code.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import shapely
from pyproj import Transformer
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from tests.support.open_data import LAD_CSP_PFA_LOOKUP, WARDS_2024


@dataclass(frozen=True)
class Wards:
    """The May 2024 wards of the shared ward file (EPSG:27700), with their districts."""

    polygons: dict[str, BaseGeometry]
    names: dict[str, str]
    lads: dict[str, str]
    codes: list[str]
    tree: shapely.STRtree

    def ward_of(self, lon: float, lat: float) -> str | None:
        """The smallest-coded ward covering a WGS84 point, if any."""
        x, y = _TO_BNG.transform(lon, lat)
        point = shapely.Point(x, y)
        hits = sorted(self.codes[i] for i in self.tree.query(point) if self.polygons[self.codes[i]].covers(point))
        return hits[0] if hits else None


_TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
_TO_WGS84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def load_wards(shared_data: Path) -> Wards:
    features = json.loads((shared_data / WARDS_2024).read_text())["features"]
    polygons = {f["properties"]["ward_code"]: shape(f["geometry"]) for f in features}
    codes = list(polygons)
    return Wards(
        polygons=polygons,
        names={f["properties"]["ward_code"]: f["properties"]["ward_name"] for f in features},
        lads={f["properties"]["ward_code"]: f["properties"]["lad_code"] for f in features},
        codes=codes,
        tree=shapely.STRtree([polygons[c] for c in codes]),
    )


def to_wgs84(geometry: BaseGeometry) -> BaseGeometry:
    """An EPSG:27700 geometry in WGS84 lon/lat."""
    return shapely.transform(geometry, _TO_WGS84.transform, interleaved=False)


def ward_months(
    wards: Wards, path: Path, lon: str = "Longitude", lat: str = "Latitude", month: str = "Month"
) -> Counter[tuple[str, str]]:
    """Rows per (ward, YYYY-MM) of a police.uk CSV, from its coordinates (rows without a ward are left out)."""
    found: Counter[tuple[str, str]] = Counter()
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if not row[lon]:
                continue
            ward = wards.ward_of(float(row[lon]), float(row[lat]))
            if ward is not None:
                found[(ward, row[month][:7])] += 1
    return found


def csps(shared_data: Path) -> dict[str, str]:
    """District -> CSP from the shared lookup (the smallest code where a district has several)."""
    out: dict[str, str] = {}
    with (shared_data / LAD_CSP_PFA_LOOKUP).open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            out[row["ltla24_code"]] = min(out.get(row["ltla24_code"], row["csp24_code"]), row["csp24_code"])
    return out


def publish(env: dict[str, str], dataset: str, path: Path) -> str:
    """`hub publish DATASET FILE` (the dataset's default partner); its stderr, asserting success."""
    result = subprocess.run(
        [sys.executable, "-m", "deploy.cli", "publish", dataset, str(path)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stderr
