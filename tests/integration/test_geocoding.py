"""The geocoder, its API and `locate_csv` against the real shared files.

Every expectation is computed here independently: the GeoJSON files are read with `json` + shapely, WGS84 is
projected with pyproj, and each point is tested against every polygon (`shapely.intersects_xy`, no index),
the smallest code winning ties, as the hub promises.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import psycopg
import pytest
import shapely
import typer
from fastapi.testclient import TestClient
from pyproj import Transformer
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from typer.testing import CliRunner

from deploy.cli.locate import locate
from geography.geocoder import Geocoder, Location
from geography.locate import INVALID_INPUT, locate_csv
from sharing_protocols.envelope import BngPoint, PostcodeLocation, Wgs84Point
from tests.support.hub import HubEnv
from tests.support.open_data import EASTBOURNE_CODEPOINT, LSOA11_LSOA21_LOOKUP, LSOAS_2021, SUSSEX_STREET, WARDS_2024
from tests.support.reference_data import ALL_LOOKUPS, LSOAS_2021_AREAS, load_reference
from warehouse.reference.geocoder_data import geocoder_from_warehouse
from warehouse.schema.db import libpq_url

pytestmark = pytest.mark.integration

_TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
FAR_AWAY = (325_000.0, 675_000.0)  # Edinburgh: outside the three forces' wards


@dataclass(frozen=True)
class Polygons:
    """One level's areas read straight from a GeoJSON file, in EPSG:27700, sorted by code."""

    codes: list[str]
    geoms: list[BaseGeometry]
    properties: list[dict[str, str]]

    @classmethod
    def read(cls, path: Path, code_field: str, project: bool) -> Polygons:
        features = json.loads(path.read_text())["features"]
        features.sort(key=lambda f: f["properties"][code_field])
        geoms = []
        for feature in features:
            geom = shape(feature["geometry"])
            if project:
                geom = shapely.transform(geom, lambda xy: np.column_stack(_TO_BNG.transform(xy[:, 0], xy[:, 1])))
            geoms.append(geom if geom.is_valid else shapely.make_valid(geom))
        return cls([f["properties"][code_field] for f in features], geoms, [f["properties"] for f in features])

    def containing(self, x: npt.ArrayLike, y: npt.ArrayLike) -> list[str | None]:
        """For each point, the smallest code whose polygon it touches (brute force over every polygon)."""
        xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        out: list[str | None] = [None] * xs.size
        open_ = np.ones(xs.size, dtype=bool)
        for code, geom in zip(self.codes, self.geoms, strict=True):
            shapely.prepare(geom)
            hit = open_ & shapely.intersects_xy(geom, np.nan_to_num(xs), np.nan_to_num(ys)) & ~np.isnan(xs)
            for i in np.flatnonzero(hit):
                out[i] = code
            open_ &= ~hit
        return out


@pytest.fixture(scope="module")
def wards(shared_data: Path) -> Polygons:
    return Polygons.read(shared_data / WARDS_2024, "ward_code", project=False)


@pytest.fixture(scope="module")
def lsoas(shared_data: Path) -> Polygons:
    return Polygons.read(shared_data / LSOAS_2021, "LSOA21CD", project=True)


@pytest.fixture(scope="module")
def loaded(hub_env: HubEnv, shared_data: Path) -> Iterator[str]:
    """LSOAs 2021, the 2024 lookups and the Eastbourne Code-Point postcodes, loaded into this module's hub."""
    url = hub_env.database_url
    result = load_reference(
        url, areas=[LSOAS_2021_AREAS], lookups=ALL_LOOKUPS, postcodes=EASTBOURNE_CODEPOINT, data=shared_data
    )
    assert result is not None and result.loaded == 2887 and not result.skipped
    yield url


@pytest.fixture(scope="module")
def geocoder(loaded: str) -> Geocoder:
    return geocoder_from_warehouse("wards-2024", "lsoa-2021", "lookups-2024", loaded)


@dataclass(frozen=True)
class SussexRows:
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    lsoa11: list[str]


@pytest.fixture(scope="module")
def sussex(shared_data: Path) -> SussexRows:
    with (shared_data / SUSSEX_STREET).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 11_404  # the shared data README
    lon = np.array([float(r["Longitude"]) if r["Longitude"] else np.nan for r in rows])
    lat = np.array([float(r["Latitude"]) if r["Latitude"] else np.nan for r in rows])
    return SussexRows(lon, lat, [r["LSOA code"] for r in rows])


def test_every_sussex_point_gets_the_independently_computed_ward_lsoa_and_district(
    geocoder: Geocoder, wards: Polygons, lsoas: Polygons, sussex: SussexRows, shared_data: Path
) -> None:
    locations: list[Location] = [
        None if np.isnan(lon) else Wgs84Point(lon=float(lon), lat=float(lat))
        for lon, lat in zip(sussex.lon, sussex.lat, strict=True)
    ]
    results = geocoder.geocode(locations)
    x, y = _TO_BNG.transform(sussex.lon, sussex.lat)
    want_ward, want_lsoa = wards.containing(x, y), lsoas.containing(x, y)
    lad_of = {code: props["lad_code"] for code, props in zip(wards.codes, wards.properties, strict=True)}

    assert len(results) == len(locations)
    got = [(r.areas.get("ward"), r.areas.get("lsoa"), r.areas.get("lad")) for r in results]
    want = [(w, ls, lad_of.get(w or "")) for w, ls in zip(want_ward, want_lsoa, strict=True)]
    mismatches = [i for i, (g, w) in enumerate(zip(got, want, strict=True)) if g != w]
    assert not mismatches, f"{len(mismatches)} rows differ, first rows {mismatches[:5]}"
    located = sum(w is not None for w in want_ward)
    assert 0 < located < len(results)  # West Sussex lies outside the ward file
    assert Counter(r.unmatched for r in results if r.areas.get("ward") is None) == {
        "outside_coverage": int(np.isfinite(sussex.lon).sum()) - located,
        **({"no_location": int(np.isnan(sussex.lon).sum())} if np.isnan(sussex.lon).any() else {}),
    }

    # Agreement with police.uk's own (2011) LSOA codes, mapped to 2021 codes.
    to21: dict[str, set[str]] = {}
    with (shared_data / LSOA11_LSOA21_LOOKUP).open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            to21.setdefault(row["lsoa11_code"], set()).add(row["lsoa21_code"])
    compared = agreed = 0
    for result, code11 in zip(results, sussex.lsoa11, strict=True):
        lsoa21 = result.areas.get("lsoa")
        if lsoa21 and code11 in to21:
            compared += 1
            agreed += lsoa21 in to21[code11]
    rate = agreed / compared
    print(f"LSOA agreement with police.uk (2011 codes via lsoa11->lsoa21): {agreed}/{compared} = {rate:.4f}")
    # Not 1.0: police.uk snaps points to anonymised map points whose LSOA it records, both boundary files are
    # generalised (a point near an edge can fall on the other side), and 2011 -> 2021 splits and merges.
    assert rate > 0.8


def test_postcodes_get_the_ward_holding_their_centroid(geocoder: Geocoder, wards: Polygons, shared_data: Path) -> None:
    with (shared_data / EASTBOURNE_CODEPOINT).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    postcodes = [r["Postcode"] for r in rows]
    x = np.array([float(r["Eastings"]) for r in rows])
    y = np.array([float(r["Northings"]) for r in rows])
    want = wards.containing(x, y)
    # Spelt as people write them: lower case, with a space.
    results = geocoder.geocode([PostcodeLocation(postcode=f"{p[:-3]} {p[-3:]}".lower()) for p in postcodes])
    assert [r.areas.get("ward") for r in results] == want
    assert [(r.x, r.y) for r in results] == list(zip(x.tolist(), y.tolist(), strict=True))
    assert {r.method for r in results} == {"postcode_centroid"}
    quality = {r["Postcode"]: r["Positional_quality_indicator"] for r in rows}
    assert all(r.quality == (2 if quality[p] == "10" else 3) for r, p in zip(results, postcodes, strict=True))
    assert sum(w is not None for w in want) > 0.95 * len(rows)


def test_unmatched_inputs_are_counted_by_reason_and_none_is_dropped(geocoder: Geocoder, shared_data: Path) -> None:
    with (shared_data / EASTBOURNE_CODEPOINT).open(encoding="utf-8", newline="") as handle:
        known = next(csv.DictReader(handle))["Postcode"]
    sector_only = f"{known[:-3]} {known[-3]}ZZ"  # same sector, a unit Code-Point does not list
    inputs: list[Location] = [
        None,
        BngPoint(easting=FAR_AWAY[0], northing=FAR_AWAY[1]),
        PostcodeLocation(postcode="NOT A PC"),
        PostcodeLocation(postcode="ZZ99 9ZZ"),
        None,
        PostcodeLocation(postcode="12345"),
        PostcodeLocation(postcode=known),
        PostcodeLocation(postcode=sector_only),
    ]
    results = geocoder.geocode(inputs)
    assert len(results) == len(inputs)
    assert [r.unmatched for r in results] == [
        "no_location",
        "outside_coverage",
        "invalid_postcode",
        "unknown_postcode",
        "no_location",
        "invalid_postcode",
        None,
        None,
    ]
    assert Counter(r.unmatched for r in results) == {
        "no_location": 2,
        "invalid_postcode": 2,
        "outside_coverage": 1,
        "unknown_postcode": 1,
        None: 2,
    }
    assert results[7].method == "sector_centroid"
    assert all(not r.areas for r in results[:6])


@pytest.fixture(scope="module")
def client(loaded: str, hub_env: HubEnv) -> TestClient:
    """The API, without a key: geocoding is public reference data."""
    return hub_env.client()


def _access_rows(url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(libpq_url(url)) as conn:
        return conn.execute(
            "SELECT org, role, rows, status FROM access_log WHERE endpoint = '/v1/geocode' ORDER BY id"
        ).fetchall()


def test_get_geocode_answers_each_form_and_logs_it(
    client: TestClient, loaded: str, wards: Polygons, lsoas: Polygons, sussex: SussexRows
) -> None:
    finite = np.isfinite(sussex.lon)
    all_x, all_y = _TO_BNG.transform(sussex.lon[finite], sussex.lat[finite])
    found = zip(wards.containing(all_x, all_y), lsoas.containing(all_x, all_y), strict=True)
    i = next(k for k, (ward, lsoa) in enumerate(found) if ward and lsoa)  # the first one in East Sussex
    lon, lat = float(sussex.lon[finite][i]), float(sussex.lat[finite][i])
    x, y = _TO_BNG.transform(lon, lat)
    before = len(_access_rows(loaded))

    body = client.get("/v1/geocode", params={"lat": lat, "lon": lon}).json()
    assert body["query"] == {"lat": lat, "lon": lon}
    result = body["result"]
    assert result["areas"]["ward"] == wards.containing([x], [y])[0]
    assert result["areas"]["lsoa"] == lsoas.containing([x], [y])[0]
    assert set(result["areas"]) == {"ward", "lsoa", "lad", "csp", "county", "pfa"}
    assert (result["vintage"], result["method"], result["quality"], result["unmatched"]) == (
        "wards-2024",
        "point_in_polygon",
        1,
        None,
    )
    assert result["x"] == pytest.approx(x) and result["y"] == pytest.approx(y)

    grid = client.get("/v1/geocode", params={"easting": 560000, "northing": 100000}).json()["result"]
    assert grid["areas"].get("ward") == wards.containing([560000], [100000])[0]
    far = client.get("/v1/geocode", params={"easting": FAR_AWAY[0], "northing": FAR_AWAY[1]}).json()["result"]
    assert (far["areas"], far["unmatched"], far["vintage"]) == ({}, "outside_coverage", None)

    pc = client.get("/v1/geocode", params={"postcode": "bn20 0ad"}).json()
    assert pc["query"] == {"postcode": "bn20 0ad"}
    assert pc["result"]["areas"]["ward"] == wards.containing([557151], [95682])[0]  # BN20 0AD's centroid
    assert (pc["result"]["x"], pc["result"]["method"]) == (557151, "postcode_centroid")

    logged = _access_rows(loaded)[before:]
    assert logged == [("public", "public", 1, 200)] * 4


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "exactly one of"),
        ({"postcode": "BN21 4UH", "lat": 50.8, "lon": 0.28}, "exactly one of"),
        ({"lat": 50.8}, "lat and lon must be given together"),
        ({"easting": 560000}, "easting and northing must be given together"),
        ({"lat": 95, "lon": 0.28}, "lat"),
        ({"easting": -5, "northing": 100000}, "easting"),
    ],
)
def test_get_geocode_refuses_anything_but_one_form(client: TestClient, params: dict[str, object], message: str) -> None:
    response = client.get("/v1/geocode", params=params)
    assert response.status_code == 422
    assert message in response.json()["detail"]


def test_unknown_vintage_is_404_naming_it(client: TestClient, loaded: str) -> None:
    response = client.get("/v1/geocode", params={"postcode": "BN21 4UH", "vintage": "wards-1999"})
    assert response.status_code == 404
    assert "wards-1999" in response.json()["detail"]
    assert _access_rows(loaded)[-1][3] == 404


def test_post_geocode_answers_in_order_and_caps_at_1000(client: TestClient, loaded: str, wards: Polygons) -> None:
    items: list[dict[str, object]] = [
        {"easting": FAR_AWAY[0], "northing": FAR_AWAY[1]},
        {"postcode": "BN20 0AD"},
        {"lat": 50.77, "lon": 0.28},
        {"postcode": "not a postcode"},
        {"easting": 560000, "northing": 100000},
    ]
    response = client.post("/v1/geocode", json={"items": items})
    assert response.status_code == 200
    answers = response.json()["result"]
    assert [a["query"] for a in answers] == items
    ex, ny = _TO_BNG.transform(0.28, 50.77)
    assert [a["result"]["areas"].get("ward") for a in answers] == [
        None,
        wards.containing([557151], [95682])[0],
        wards.containing([ex], [ny])[0],
        None,
        wards.containing([560000], [100000])[0],
    ]
    assert [a["result"]["unmatched"] for a in answers] == ["outside_coverage", None, None, "invalid_postcode", None]
    assert _access_rows(loaded)[-1] == ("public", "public", 5, 200)

    assert client.post("/v1/geocode", json={"items": [{"postcode": "BN20 0AD"}] * 1000}).status_code == 200
    assert client.post("/v1/geocode", json={"items": [{"postcode": "BN20 0AD"}] * 1001}).status_code == 422
    assert client.post("/v1/geocode", json={"items": [{"postcode": "B" * 33}]}).status_code == 422
    short = client.post("/v1/geocode", json={"items": [{"postcode": "B"}]}).json()["result"]
    assert short[0]["result"]["unmatched"] == "invalid_postcode"
    mixed = client.post("/v1/geocode", json={"items": [{"postcode": "BN20 0AD"}, {"lat": 50.8}]})
    assert mixed.status_code == 422
    assert "lat and lon must be given together" in json.dumps(mixed.json())
    assert mixed.json()["detail"][0]["loc"][:3] == ["body", "items", 1]


def test_locate_csv_detects_columns_keeps_every_row_and_reports_bad_ones(
    geocoder: Geocoder, wards: Polygons, lsoas: Polygons, tmp_path: Path
) -> None:
    source = tmp_path / "in.csv"
    rows = [
        ["ref", "Postcode", "Lat", "Longitude", "Easting", "Northing"],
        ["a", "BN20 0AD", "", "", "", ""],
        ["b", "", "50.77", "0.28", "", ""],
        ["c", "", "", "", "560000", "100000"],
        ["d", "", "fifty", "0.28", "", ""],
        ["e", "", "", "", "", ""],
        ["f", "", "", "", str(FAR_AWAY[0]), str(FAR_AWAY[1])],
        ["g", "", "", "", "560000", ""],
        ["h", "XX", "", "", "", ""],
        ["i", "", "95", "0.28", "", ""],
        ["j", "", "", "", "", ""],
        ["k", "not a postcode at all", "", "", "", ""],
    ]
    with source.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    out = tmp_path / "out.csv"
    seen: list[int] = []
    summary = locate_csv(source, out, geocoder, seen.append)

    with out.open(newline="") as handle:
        written = list(csv.DictReader(handle))
    header = rows[0] + ["hub_easting", "hub_northing", "ward", "lsoa", "lad", "csp", "county", "pfa"]
    assert list(written[0])[: len(header)] == header
    assert list(written[0])[len(header) :] == ["vintage", "method", "quality", "unmatched"]
    assert [[r[c] for c in rows[0]] for r in written] == rows[1:]  # every row, every input value, in order
    ex, ny = _TO_BNG.transform(0.28, 50.77)
    points = {"a": (557151.0, 95682.0), "b": (ex, ny), "c": (560000.0, 100000.0)}
    for row in written:
        if row["ref"] in points:
            px, py = points[row["ref"]]
            assert row["ward"] == wards.containing([px], [py])[0]
            assert row["lsoa"] == lsoas.containing([px], [py])[0]
            assert float(row["hub_easting"]) == pytest.approx(px, abs=0.05)
            assert row["unmatched"] == "" and row["vintage"] == "wards-2024" and row["lad"] and row["pfa"]
    assert {r["ref"]: r["unmatched"] for r in written if r["unmatched"]} == {
        "d": INVALID_INPUT,
        "e": "no_location",
        "f": "outside_coverage",
        "g": INVALID_INPUT,
        "h": "invalid_postcode",
        "i": INVALID_INPUT,
        "j": "no_location",
        "k": "invalid_postcode",
    }
    assert summary.rows == 11 and summary.matched == 3 and seen == [11]
    assert summary.unmatched == {INVALID_INPUT: 3, "no_location": 2, "outside_coverage": 1, "invalid_postcode": 2}
    assert summary.problems == [
        f"{source}, row 5, column 'Lat': not a number",
        f"{source}, row 8, column 'Northing': missing (the other of the pair is given)",
        f"{source}, row 10, column 'Lat': out of range",
    ]
    assert "fifty" not in " ".join(summary.problems)

    lower = tmp_path / "latlon.csv"
    lower.write_text("LATITUDE,longitude\n50.77,0.28\n")
    summary = locate_csv(lower, tmp_path / "latlon-out.csv", geocoder)
    assert summary.columns == {"lat": "LATITUDE", "lon": "longitude"} and summary.matched == 1


def test_locate_command_writes_the_file_and_summarises(loaded: str, hub_env: HubEnv, tmp_path: Path) -> None:
    app = typer.Typer()
    app.command()(locate)
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text("postcode,note\nBN20 0AD,x\nZZ99 9ZZ,y\n,z\n")
    runner = CliRunner(env=hub_env.env)  # the command reads HUB_* settings, as `hub geo locate` does
    result = runner.invoke(app, [str(source), str(out)])
    assert result.exit_code == 0, result.output
    assert "3 rows" in result.output and "matched: 1" in result.output
    assert "unmatched no_location: 1" in result.output and "unmatched unknown_postcode: 1" in result.output
    assert "BN20" not in result.output  # no input values in the summary
    assert len(out.read_text().splitlines()) == 4

    missing = runner.invoke(app, [str(tmp_path / "none.csv"), str(out)])
    assert missing.exit_code == 1
    nocols = tmp_path / "nocols.csv"
    nocols.write_text("a,b\n1,2\n")
    refused = runner.invoke(app, [str(nocols), str(out)])
    assert refused.exit_code == 1 and "no location columns" in refused.output


def test_the_access_log_keeps_only_the_sector_of_a_queried_postcode(client: TestClient, loaded: str) -> None:
    client.get("/v1/geocode", params={"postcode": "BN21 4UH"})
    with psycopg.connect(libpq_url(loaded)) as conn:
        logged = conn.execute(
            "SELECT query->>'postcode' FROM access_log WHERE query ? 'postcode' ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert logged == ("BN21 4",)


def test_the_access_log_keeps_queried_coordinates_to_about_a_kilometre(client: TestClient, loaded: str) -> None:
    client.get("/v1/geocode", params={"lat": "50.768912", "lon": "0.284437"})
    client.get("/v1/geocode", params={"easting": "561234.5", "northing": "98765"})
    with psycopg.connect(libpq_url(loaded)) as conn:
        rows = conn.execute(
            "SELECT query FROM access_log WHERE query ? 'lat' OR query ? 'easting' ORDER BY id DESC LIMIT 2"
        ).fetchall()
    assert [r[0] for r in rows] == [{"easting": "561000", "northing": "99000"}, {"lat": "50.77", "lon": "0.28"}]
