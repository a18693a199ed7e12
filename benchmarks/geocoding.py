"""Ward assignment throughput: the hub geocoder against plain shapely and PostGIS, on the same points.

The points are those of benchmarks/jitter.py (same rows, same seed), projected once to EPSG:27700 (timed apart).
Each contender gets the same easting/northing arrays and the same May 2024 ward polygons:

- hub:      `AreaIndex.locate` (the geocoder's ward step: STRtree over prepared polygons, smallest-code ties),
            built by `read_area_index`, i.e. the polygons as the warehouse returns them;
- shapely:  a bare `STRtree(polygons).query(points, predicate="intersects")`;
- PostGIS:  COPY the points into a table, then one `UPDATE ... FROM area ... ST_Intersects`.

Prints points/s for each and the ratio hub / shapely (target >= 0.8). Also times `Geocoder.geocode` end to end
(pydantic `BngPoint` inputs, one `GeocodeResult` each) on a sample, for reference.

    .venv/bin/python -m benchmarks.geocoding [--points 1000000]
"""

from __future__ import annotations

import argparse
import csv
import time
import uuid
from pathlib import Path

import numpy as np
import numpy.typing as npt
import psycopg
import shapely

from benchmarks.jitter import write_jittered
from deploy import local
from deploy.settings import LocalSettings
from geography.geocoder import Geocoder, wgs84_to_bng
from sharing_protocols.envelope import BngPoint
from warehouse.reference.boundaries import load_areas, read_areas
from warehouse.reference.geocoder_data import read_area_index
from warehouse.schema import migrate
from warehouse.schema.db import libpq_url

WARDS = "boundaries/wards_2024_bsc_epsg27700.geojson"
VINTAGE = "wards-2024"


def read_points(csv_path: Path) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Longitude and latitude columns of a police.uk street file."""
    lon: list[float] = []
    lat: list[float] = []
    with csv_path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for row in reader:
            lon.append(float(row[4]))
            lat.append(float(row[5]))
    return np.array(lon), np.array(lat)


def best_of(runs: int, work: object) -> float:
    """The fastest of `runs` timings of `work()` in seconds."""
    assert callable(work)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def postgis(url: str, x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> tuple[float, int]:
    """Seconds for COPY + one ST_Intersects ward update of every point, and how many points got a ward."""
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_point")
        conn.execute("CREATE TABLE bench_point (id int, x float8, y float8, ward_code text)")
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy("COPY bench_point (id, x, y) FROM STDIN") as copy:
            for i, (px, py) in enumerate(zip(x.tolist(), y.tolist(), strict=True)):
                copy.write_row((i, px, py))
        conn.execute(
            "UPDATE bench_point p SET ward_code = a.code FROM area a WHERE a.vintage = %s AND a.level = 'ward' "
            "AND ST_Intersects(a.geom, ST_SetSRID(ST_MakePoint(p.x, p.y), 27700))",
            (VINTAGE,),
        )
        elapsed = time.perf_counter() - started
        row = conn.execute("SELECT count(ward_code) FROM bench_point").fetchone()
        conn.execute("DROP TABLE bench_point")
    return elapsed, int(row[0]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="in-memory timings: best of this many runs")
    parser.add_argument("--sample", type=int, default=100_000, help="points for the Geocoder.geocode reference")
    args = parser.parse_args()
    settings = LocalSettings()
    shared = settings.shared_data.resolve()
    local.ensure_up()
    csv_path = write_jittered(shared, settings.home.resolve() / "bench" / f"jittered-{args.points}.csv", args.points)
    lon, lat = read_points(csv_path)
    n = lon.size

    started = time.perf_counter()
    x, y = wgs84_to_bng(lon, lat)
    project_s = time.perf_counter() - started

    name = f"bench_geo_{uuid.uuid4().hex[:8]}"
    url = local.create_database(name)
    try:
        migrate.upgrade(url)
        load_areas(read_areas(shared / WARDS, "ward_code", "ward_name"), VINTAGE, "ward", url)
        wards = read_area_index("ward", VINTAGE, url)

        # The plain tree gets the very same polygons (as the warehouse returns them), unprepared.
        with psycopg.connect(libpq_url(url)) as conn:
            rows = conn.execute(
                "SELECT ST_AsBinary(geom) FROM area WHERE vintage = %s AND level = 'ward' ORDER BY code", (VINTAGE,)
            ).fetchall()
        polygons = shapely.from_wkb([bytes(r[0]) for r in rows])
        tree = shapely.STRtree(polygons)

        found: list[int] = []

        def hub_run() -> None:
            found[:] = [sum(code is not None for code in wards.locate(x, y))]

        def shapely_run() -> None:
            tree.query(shapely.points(x, y), predicate="intersects")

        hub_s = best_of(args.runs, hub_run)
        hub_found = found[0]
        shapely_s = best_of(args.runs, shapely_run)
        pairs = tree.query(shapely.points(x, y), predicate="intersects")
        shapely_found = int(np.unique(pairs[0]).size)

        sample = min(args.sample, n)
        geocoder = Geocoder(wards)
        locations = [
            BngPoint(easting=float(px), northing=float(py)) for px, py in zip(x[:sample], y[:sample], strict=True)
        ]
        geocode_s = best_of(1, lambda: geocoder.geocode(locations))

        pg_s, pg_found = postgis(url, x, y)
    finally:
        local.drop_database(name)

    def line(label: str, seconds: float, found: int) -> None:
        print(f"{label:<44} {seconds:7.2f} s  {n / seconds:12,.0f} points/s  ({found:,} in a ward)")

    print(f"points: {n:,} jittered police.uk points (seed 2019), {len(wards.codes)} wards ({VINTAGE})")
    print(f"{'projection  WGS84 -> BNG (pyproj, shared):':<44} {project_s:7.2f} s  {n / project_s:12,.0f} points/s")
    line("hub         AreaIndex.locate:", hub_s, hub_found)
    line("shapely     STRtree.query(intersects):", shapely_s, shapely_found)
    line("postgis     COPY + UPDATE ST_Intersects:", pg_s, pg_found)
    print(f"{'ratio       hub / shapely:':<44} {shapely_s / hub_s:7.2f}  (target >= 0.80)")
    print(f"{'ratio       hub / postgis:':<44} {pg_s / hub_s:7.2f}")
    print(f"reference   Geocoder.geocode(BngPoint) on {sample:,} points: {sample / geocode_s:,.0f} points/s")


if __name__ == "__main__":
    main()
