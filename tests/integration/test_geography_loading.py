"""The reference-data layer on the real shared files: boundaries (all levels and formats), lookups, postcodes.

Expected counts come from the shared data README; expected values come from reading the files independently.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from shapely.geometry import shape

from deploy import local
from tests.support.hub import Services
from tests.support.open_data import (
    CODEPOINT,
    COUNTIES_2023,
    LAD_CSP_PFA_LOOKUP,
    LAD_FRA_LOOKUP,
    LADS_2024,
    LSOAS_2011,
    LSOAS_2021,
    ONSPD_ABERDEEN,
    PFAS_2020,
    WARDS_2013,
    WARDS_2024,
)
from tests.support.reference_data import ALL_LOOKUPS
from tests.support.reference_data import LOOKUPS_VINTAGE as LOOKUPS
from warehouse.reference.boundaries import load_areas, read_areas
from warehouse.reference.lookups import ambiguous, load_lookup, parents, rollup
from warehouse.reference.postcodes import DUPLICATE, NO_COORDINATES, load_postcodes
from warehouse.schema import migrate
from warehouse.schema.db import libpq_url

pytestmark = pytest.mark.integration

BOUNDARIES = [  # file, level, vintage, README count
    (WARDS_2024, "ward", "wards-2024", 649),
    (WARDS_2013, "ward", "wards-2013", 742),
    (LSOAS_2021, "lsoa", "lsoa-2021", 2839),
    (LSOAS_2011, "lsoa", "lsoa-2011", 2765),
    (LADS_2024, "lad", "lad-2024", 34),
    (COUNTIES_2023, "county", "county-2023", 9),
    (PFAS_2020, "pfa", "pfa-2020", 3),
]
NORTH_HAMPSHIRE = "E22000374"


@pytest.fixture(scope="module")
def db_url(services: Services) -> Iterator[str]:
    """A throwaway migrated database for this module."""
    name = f"hub_test_geo_{uuid.uuid4().hex[:10]}"
    try:
        url = local.create_database(name, services.database_url)
    except local.LocalInfraError as exc:
        pytest.fail(str(exc))
    migrate.upgrade(url)
    yield url
    local.drop_database(name, services.database_url)


def _query(url: str, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with psycopg.connect(libpq_url(url)) as conn:
        return conn.execute(sql, params).fetchall()


def _hub(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HUB_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "deploy.cli", "geo", *args], env=env, capture_output=True, text=True, timeout=300
    )


def _source_codes(path: Path, field: str) -> tuple[set[str], int]:
    """The file's codes and how many of its polygons are invalid as published (read with json + shapely)."""
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    invalid = sum(1 for f in features if not shape(f["geometry"]).is_valid)
    return {str(f["properties"][field]) for f in features}, invalid


@pytest.fixture(scope="module")
def boundaries(db_url: str, shared_data: Path) -> dict[str, int]:
    """Every boundary file loaded with its fields detected; the count loaded per vintage."""
    return {
        vintage: load_areas(read_areas(shared_data / name, level=level), vintage, level, db_url)
        for name, level, vintage, _ in BOUNDARIES
    }


@pytest.mark.parametrize(("name", "level", "vintage", "expected"), BOUNDARIES)
def test_boundaries_load_with_readme_counts_valid_in_27700(
    db_url: str, boundaries: dict[str, int], name: str, level: str, vintage: str, expected: int
) -> None:
    assert boundaries[vintage] == expected
    [(count, valid, srids, levels)] = _query(
        db_url,
        "SELECT count(*), count(*) FILTER (WHERE ST_IsValid(geom)), array_agg(DISTINCT ST_SRID(geom)), "
        "array_agg(DISTINCT level) FROM area WHERE vintage = %s",
        (vintage,),
    )
    assert (count, valid, srids, levels) == (expected, expected, [27700], [level])


@pytest.mark.parametrize(
    ("name", "code_field", "invalid_in_source"),
    [(WARDS_2013, "WD13CD", 1), (LSOAS_2011, "LSOA11CD", 4)],
)
def test_invalid_source_polygons_are_repaired(
    db_url: str, boundaries: dict[str, int], shared_data: Path, name: str, code_field: str, invalid_in_source: int
) -> None:
    codes, invalid = _source_codes(shared_data / name, code_field)
    assert invalid == invalid_in_source  # the README's count, checked against the file itself
    vintage = next(v for n, _, v, _ in BOUNDARIES if n == name)
    rows = _query(db_url, "SELECT code FROM area WHERE vintage = %s AND ST_IsValid(geom)", (vintage,))
    assert {str(r[0]) for r in rows} == codes


def test_reprojection_puts_wgs84_wards_on_the_27700_wards(db_url: str, boundaries: dict[str, int]) -> None:
    """The 2024 wards from the EPSG:27700 file and a WGS84 file of the same wards coincide after reprojection."""
    [(mismatched,)] = _query(
        db_url,
        "SELECT count(*) FROM area w JOIN area l ON l.vintage = 'lad-2024' AND l.code = w.properties->>'lad_code' "
        "WHERE w.vintage = 'wards-2024' AND NOT ST_Contains(ST_Buffer(l.geom, 500), ST_PointOnSurface(w.geom))",
    )
    assert mismatched == 0


@pytest.mark.parametrize("suffix", [".gpkg", ".shp"])
def test_geopackage_and_shapefile_load_the_same_areas(shared_data: Path, tmp_path: Path, suffix: str) -> None:
    import pyogrio.raw

    source = shared_data / WARDS_2013
    meta, _, geometry, field_data = pyogrio.raw.read(source)
    target = tmp_path / f"wards_2013{suffix}"
    pyogrio.raw.write(
        target,
        geometry,
        field_data,
        meta["fields"],
        crs="EPSG:4326",
        geometry_type="MultiPolygon",
        promote_to_multi=True,
    )
    records = read_areas(target, level="ward")
    expected = read_areas(source, level="ward")
    assert len(records) == 742
    assert [r.code for r in records] == [r.code for r in expected]
    assert [r.name for r in records] == [r.name for r in expected]
    assert all(r.geom.is_valid for r in records)
    by_code = {r.code: r.geom for r in expected}
    assert all(abs(r.geom.area - by_code[r.code].area) < 1e-6 * by_code[r.code].area + 1 for r in records)


def test_undetectable_fields_name_the_file_and_candidates(shared_data: Path) -> None:
    path = shared_data / PFAS_2020
    with pytest.raises(ValueError, match=r"pfa_2020_epsg4326\.geojson.*level 'ward'.*WD<yy>CD.*PFA20CD"):
        read_areas(path, level="ward")


@pytest.fixture(scope="module")
def lookups(db_url: str, shared_data: Path) -> dict[str, dict[tuple[str, str], int]]:
    loads = [load_lookup(shared_data / name, LOOKUPS, db_url) for name in ALL_LOOKUPS]
    return {load.format: load.edges for load in loads}


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def test_lookups_are_recognised_and_keep_every_row(
    lookups: dict[str, dict[tuple[str, str], int]], shared_data: Path
) -> None:
    csp_rows = _csv(shared_data / LAD_CSP_PFA_LOOKUP)
    assert lookups["ward-lad-county"][("ward", "lad")] == 649
    assert lookups["lsoa-ward-lad"][("lsoa", "ward")] == 2839
    assert lookups["lad-csp-pfa"][("lad", "csp")] == len({(r["ltla24_code"], r["csp24_code"]) for r in csp_rows})


def test_every_2024_ward_has_its_district(db_url: str, boundaries: dict[str, int], lookups: object) -> None:
    rows = _query(
        db_url,
        "SELECT a.code, a.properties->>'lad_code', l.parent_code FROM area a LEFT JOIN area_lookup l "
        "ON l.vintage = %s AND l.child_level = 'ward' AND l.parent_level = 'lad' AND l.child_code = a.code "
        "WHERE a.vintage = 'wards-2024'",
        (LOOKUPS,),
    )
    assert len(rows) == 649
    assert all(parent is not None and parent == own for _, own, parent in rows)


def test_every_2021_lsoa_has_a_ward(db_url: str, boundaries: dict[str, int], lookups: object) -> None:
    lsoa_ward = rollup(LOOKUPS, ["lsoa", "ward"], db_url)
    codes = {str(r[0]) for r in _query(db_url, "SELECT code FROM area WHERE vintage = 'lsoa-2021'")}
    assert codes <= lsoa_ward.keys()


def test_north_hampshire_districts_share_one_csp(db_url: str, lookups: object) -> None:
    lad_csp = parents(LOOKUPS, "lad", "csp", db_url)
    for lad in ("E07000084", "E07000089", "E07000092"):
        assert lad_csp[lad] == [NORTH_HAMPSHIRE]
    ward_csp = rollup(LOOKUPS, ["ward", "lad", "csp"], db_url)
    ward_lad = rollup(LOOKUPS, ["ward", "lad"], db_url)
    north_hants = {w for w, lad in ward_lad.items() if lad in ("E07000084", "E07000089", "E07000092")}
    assert north_hants and all(ward_csp[w] == NORTH_HAMPSHIRE for w in north_hants)


def test_legacy_csps_are_all_kept_and_rollups_take_the_smallest(
    db_url: str, lookups: object, shared_data: Path
) -> None:
    rows = _csv(shared_data / LAD_CSP_PFA_LOOKUP)
    expected: dict[str, set[str]] = {}
    for row in rows:
        expected.setdefault(row["ltla24_code"], set()).add(row["csp24_code"])
    several = {lad: sorted(csps) for lad, csps in expected.items() if len(csps) > 1}
    assert len(several) == 7  # README: 7 districts map to several legacy CSPs
    assert ambiguous(LOOKUPS, "lad", "csp", db_url) == several
    lad_csp = rollup(LOOKUPS, ["lad", "csp"], db_url)
    assert all(lad_csp[lad] == csps[0] for lad, csps in several.items())


def test_every_ward_rolls_up_to_one_of_the_three_forces(db_url: str, lookups: object) -> None:
    ward_pfa = rollup(LOOKUPS, ["ward", "lad", "csp", "pfa"], db_url)
    assert len(ward_pfa) == 649
    assert set(ward_pfa.values()) == {"E23000028", "E23000030", "E23000033"}  # Essex, Hampshire, Sussex
    assert rollup(LOOKUPS, ["ward", "lad", "pfa"], db_url) == ward_pfa


def test_codepoint_loads_every_row_with_its_coordinates(db_url: str, shared_data: Path) -> None:
    path = shared_data / CODEPOINT
    result = load_postcodes(path, "codepoint", db_url)
    assert (result.read, result.loaded, dict(result.skipped)) == (120446, 120446, {})
    assert result.seconds < 30
    rows = _csv(path)
    for row in (rows[0], rows[len(rows) // 2], rows[-1], next(r for r in rows if r["Postcode"] == "BN107AA")):
        packed = row["Postcode"].replace(" ", "")
        [(postcode, x, y, easting, quality, lad, ward, sector, district)] = _query(
            db_url,
            "SELECT postcode, ST_X(geom), ST_Y(geom), easting, quality, lad_code, ward_code, sector, district "
            "FROM postcode WHERE postcode_norm = %s",
            (packed,),
        )
        assert str(postcode).replace(" ", "") == packed and str(postcode)[-4] == " "
        assert (x, y, easting) == (float(row["Eastings"]), float(row["Northings"]), float(row["Eastings"]))
        assert quality == int(row["Positional_quality_indicator"])
        assert (lad, ward) == (row["Admin_district_code"], row["Admin_ward_code"])
        assert sector == f"{postcode}"[:-2] and district == str(postcode).split(" ")[0]
    [(bn10,)] = _query(db_url, "SELECT postcode FROM postcode WHERE postcode_norm = 'BN107AA'")
    assert bn10 == "BN10 7AA"
    [(count, srids)] = _query(
        db_url, "SELECT count(*), array_agg(DISTINCT ST_SRID(geom)) FROM postcode WHERE source LIKE 'codepoint:%%'"
    )
    assert (count, srids) == (120446, [27700])


def test_onspd_rows_without_coordinates_are_skipped_and_counted(db_url: str, shared_data: Path) -> None:
    path = shared_data / ONSPD_ABERDEEN
    rows = _csv(path)
    no_grid = [i for i, r in enumerate(rows, start=2) if not r["oseast1m"].strip()]
    result = load_postcodes(path, "onspd", db_url)
    assert result.read == len(rows) == 8048
    assert result.skipped[NO_COORDINATES] == len(no_grid) and result.skipped_rows[NO_COORDINATES] == no_grid
    assert result.loaded == len(rows) - len(no_grid) - result.skipped[DUPLICATE]
    first = rows[0]
    [(postcode, x, y, lad, ward, quality)] = _query(
        db_url,
        "SELECT postcode, ST_X(geom), ST_Y(geom), lad_code, ward_code, quality FROM postcode WHERE postcode_norm = %s",
        (first["pcds"].replace(" ", ""),),
    )
    assert (postcode, x, y) == (first["pcds"], float(first["oseast1m"]), float(first["osnrth1m"]))
    assert (lad, ward, quality) == (first["oslaua"], first["osward"], int(first["osgrdind"]))
    skipped = rows[no_grid[0] - 2]["pcds"].replace(" ", "")
    assert _query(db_url, "SELECT 1 FROM postcode WHERE postcode_norm = %s", (skipped,)) == []
    # a grid reference and its lat/long agree (the loader reads the grid; the file also gives WGS84)
    [(distance,)] = _query(
        db_url,
        "SELECT ST_Distance(geom, ST_Transform(ST_SetSRID(ST_MakePoint(%s, %s), 4326), 27700)) FROM postcode "
        "WHERE postcode_norm = %s",
        (float(first["long"]), float(first["lat"]), first["pcds"].replace(" ", "")),
    )
    assert float(str(distance)) < 10


def test_cli_loads_detects_and_summarises(db_url: str, shared_data: Path) -> None:
    loaded = _hub(
        db_url,
        "load",
        str(shared_data / PFAS_2020),
        "--vintage",
        "pfa-cli",
        "--level",
        "pfa",
    )
    assert loaded.returncode == 0, loaded.stderr
    assert "loaded 3 pfa areas as pfa-cli" in loaded.stdout
    looked = _hub(db_url, "lookups", str(shared_data / LAD_CSP_PFA_LOOKUP), "--vintage", "cli-2024")
    assert looked.returncode == 0, looked.stderr
    assert "lad-csp-pfa" in looked.stdout
    unknown = _hub(db_url, "lookups", str(shared_data / LAD_FRA_LOOKUP), "--vintage", "x")
    assert unknown.returncode == 2 and "lad24_fra24_england_wales.csv: not a known lookup" in unknown.stderr
    codes = _hub(db_url, "postcodes", str(shared_data / ONSPD_ABERDEEN), "--source", "onspd")
    assert codes.returncode == 0, codes.stderr
    assert "read 8048 rows" in codes.stdout
    assert "skipped 2 rows: no coordinates" in codes.stdout
