"""Records held only by area code roll up: LSOA -> ward -> district -> CSP/county/force; outward postcodes; and
boundary files at full resolution with ONS field names load and geocode like the generalised ones.

Expectations come from the shared lookup CSVs and GeoJSON files, read here with `csv`, `json` and shapely.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import shape

from geography.geocoder import Geocoder
from sharing_protocols.envelope import AreaLocation, BngPoint, PostcodeLocation
from tests.support.hub import HubEnv
from tests.support.open_data import EASTBOURNE_CODEPOINT, LADS_IN_SCOPE, LSOA_WARD_LOOKUP, LSOAS_2011, WARDS_2024
from tests.support.reference_data import (
    ALL_LOOKUPS,
    LADS_2024_AREAS,
    LSOAS_2011_AREAS,
    LSOAS_2021_AREAS,
    load_reference,
)
from warehouse.reference.boundaries import load_areas, read_areas
from warehouse.reference.geocoder_data import geocoder_from_warehouse

pytestmark = pytest.mark.integration

_TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


@pytest.fixture(scope="module")
def geocoder(hub_env: HubEnv, shared_data: Path) -> Geocoder:
    url = hub_env.database_url
    load_reference(
        url,
        areas=[LSOAS_2021_AREAS, LSOAS_2011_AREAS, LADS_2024_AREAS],
        lookups=ALL_LOOKUPS,
        postcodes=EASTBOURNE_CODEPOINT,
        data=shared_data,
    )
    return geocoder_from_warehouse("wards-2024", "lsoa-2021", "lookups-2024", url)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_lsoa_code_rolls_up_to_its_lookup_ward_and_beyond(geocoder: Geocoder, shared_data: Path) -> None:
    lookup = _rows(shared_data / LSOA_WARD_LOOKUP)
    lsoa_col = next(c for c in lookup[0] if c.lower().startswith("lsoa21") and c.lower().endswith(("cd", "code")))
    ward_col = next(
        c for c in lookup[0] if c.lower().startswith(("wd24", "ward24")) and c.lower().endswith(("cd", "code"))
    )
    wards: dict[str, set[str]] = {}
    for row in lookup:
        wards.setdefault(row[lsoa_col], set()).add(row[ward_col])
    codes = sorted(wards)
    results = geocoder.geocode([AreaLocation(level="lsoa", code=code) for code in codes])
    for code, result in zip(codes, results, strict=True):
        assert result.areas.get("lsoa") == code
        assert result.areas.get("ward") == min(wards[code]), code  # the smallest code where an LSOA has several
        assert result.method == "area_lookup" and result.x is None and result.unmatched is None
        assert result.areas.get("lad") == geocoder.rollups[min(wards[code])]["lad"]
    assert len(codes) > 2000


def test_districts_roll_up_to_csp_county_and_force(geocoder: Geocoder, shared_data: Path) -> None:
    scope = _rows(shared_data / LADS_IN_SCOPE)
    lad_col = next(c for c in scope[0] if c.lower().startswith("lad"))
    pfa_col = next(
        c for c in scope[0] if c.lower().startswith("pfa") and "nm" not in c.lower() and "name" not in c.lower()
    )
    results = geocoder.geocode([AreaLocation(level="lad", code=row[lad_col]) for row in scope])
    for row, result in zip(scope, results, strict=True):
        assert result.areas["lad"] == row[lad_col] and "ward" not in result.areas
        assert result.areas.get("pfa") == row[pfa_col], row[lad_col]
        assert result.areas.get("csp", "").startswith("E22")


def test_an_lsoa_2011_code_without_a_lookup_lands_in_the_ward_holding_a_point_inside_it(
    geocoder: Geocoder, shared_data: Path
) -> None:
    features = json.loads((shared_data / LSOAS_2011).read_text())["features"]
    wards = json.loads((shared_data / WARDS_2024).read_text())["features"]
    ward_shapes = sorted((f["properties"]["ward_code"], shape(f["geometry"])) for f in wards)
    retired = [f for f in features if f["properties"]["LSOA11CD"] not in geocoder.area_codes.lsoa_wards]
    assert len(retired) > 20  # 2011 codes that 2021 split or merged: no LSOA -> ward lookup row
    for feature in retired[:60]:
        code = feature["properties"]["LSOA11CD"]
        geom = shapely.make_valid(shape(feature["geometry"]))
        geom = shapely.transform(geom, lambda xy: np.column_stack(_TO_BNG.transform(xy[:, 0], xy[:, 1])))
        result = geocoder.geocode([AreaLocation(level="lsoa", code=code, vintage="lsoa-2011")])[0]
        assert result.areas.get("lsoa") == code and result.method == "area_lookup"
        ward = result.areas.get("ward")
        # The ward holds a point inside the LSOA (PostGIS and shapely may pick different inside points, so the
        # check is that the LSOA overlaps the ward it was given, more than any ward not holding that point).
        overlaps = {c: w.intersection(geom).area for c, w in ward_shapes if w.intersects(geom)}
        assert ward in overlaps and overlaps[ward] > 0, code


def test_unknown_area_codes_are_unmatched_with_a_reason(geocoder: Geocoder) -> None:
    results = geocoder.geocode(
        [AreaLocation(level="lsoa", code="E01999999"), AreaLocation(level="lad", code="E07999999"), None]
    )
    assert [r.unmatched for r in results] == ["unknown_area", "unknown_area", "no_location"]


def test_an_outward_postcode_is_placed_at_its_district_centroid(geocoder: Geocoder, shared_data: Path) -> None:
    points = [
        (float(r["Eastings"]), float(r["Northings"]))
        for r in _rows(shared_data / EASTBOURNE_CODEPOINT)
        if r["Postcode"].replace(" ", "")[:-3] == "BN21"
    ]
    x, y = np.mean([p[0] for p in points]), np.mean([p[1] for p in points])
    result = geocoder.geocode([PostcodeLocation(postcode="bn21")])[0]
    assert result.method == "district_centroid" and result.quality == 5
    assert abs((result.x or 0) - x) < 1 and abs((result.y or 0) - y) < 1
    assert geocoder.geocode([PostcodeLocation(postcode="ZZ9")])[0].unmatched == "unknown_postcode"


def test_a_full_resolution_ons_geopackage_loads_and_geocodes_like_the_generalised_file(
    hub_env: HubEnv, shared_data: Path, tmp_path: Path
) -> None:
    """No full-resolution (BFC) file is in the shared data: this one is the BSC wards densified to a vertex every
    5 m (as BFC files are dense), with the ONS BFC column names and a MultiPolygon layer, in a GeoPackage."""
    features = json.loads((shared_data / WARDS_2024).read_text())["features"]
    chosen = sorted(
        (f["properties"]["ward_code"], f["properties"]["ward_name"], shape(f["geometry"]))
        for f in features
        if f["properties"]["lad_code"] == "E07000061"
    )
    codes = [c for c, _, _ in chosen]
    geoms = [g for _, _, g in chosen]
    dense = [shapely.MultiPolygon([g]) if g.geom_type == "Polygon" else g for g in shapely.segmentize(geoms, 5.0)]
    path = tmp_path / "Wards_May_2024_Boundaries_UK_BFC.gpkg"
    pyogrio.raw.write(
        path,
        shapely.to_wkb(dense),
        [
            np.array(codes, dtype=object),
            np.array([n for _, n, _ in chosen], dtype=object),
            np.array(["E07000061"] * len(codes), dtype=object),
            np.array([f"{{{i:08d}}}" for i in range(len(codes))], dtype=object),
        ],
        ["WD24CD", "WD24NM", "LAD24CD", "GlobalID"],
        layer="WD_MAY_2024_UK_BFC",
        driver="GPKG",
        geometry_type="MultiPolygon",
        crs="EPSG:27700",
    )
    vertices = int(shapely.get_num_coordinates(dense).sum())
    assert vertices > 20 * int(shapely.get_num_coordinates(geoms).sum())
    records = read_areas(path, level="ward")
    assert sorted(r.code for r in records) == codes
    load_areas(records, "wards-2024-bfc", "ward", hub_env.database_url)
    dense_geocoder = geocoder_from_warehouse("wards-2024-bfc", None, None, hub_env.database_url)
    rng = np.random.default_rng(3)
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    xs, ys = rng.uniform(minx, maxx, 2000), rng.uniform(miny, maxy, 2000)
    expected = [
        next((c for c, g in zip(codes, geoms, strict=True) if g.intersects(shapely.Point(x, y))), None)
        for x, y in zip(xs, ys, strict=True)
    ]
    located = dense_geocoder.geocode([BngPoint(easting=x, northing=y) for x, y in zip(xs, ys, strict=True)])
    agree = sum(1 for r, e in zip(located, expected, strict=True) if r.areas.get("ward") == e)
    assert agree >= 0.999 * len(expected), agree  # densifying moves no boundary; only float noise at edges
    assert sum(1 for e in expected if e) > 500
