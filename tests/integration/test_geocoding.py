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
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
import pytest
import shapely
import typer
from fastapi.testclient import TestClient
from httpx import Response
from pyproj import Transformer
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from typer.testing import CliRunner, Result

from deploy.cli.locate import locate
from geography.geocoder import Geocoder, GeocodeResult, Location
from geography.locate import INVALID_INPUT, LocateSummary, locate_csv
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


@dataclass(frozen=True)
class SussexGeocoded:
    """The geocoder's answers for every Sussex row, with the independently computed wards and LSOAs."""

    locations: list[Location]
    results: list[GeocodeResult]
    want_ward: list[str | None]
    want_lsoa: list[str | None]
    lad_of: dict[str, str]


@pytest.fixture(scope="module")
def sussex_geocoded(geocoder: Geocoder, wards: Polygons, lsoas: Polygons, sussex: SussexRows) -> SussexGeocoded:
    locations: list[Location] = [
        None if np.isnan(lon) else Wgs84Point(lon=float(lon), lat=float(lat))
        for lon, lat in zip(sussex.lon, sussex.lat, strict=True)
    ]
    results = geocoder.geocode(locations)
    x, y = _TO_BNG.transform(sussex.lon, sussex.lat)
    lad_of = {code: props["lad_code"] for code, props in zip(wards.codes, wards.properties, strict=True)}
    return SussexGeocoded(locations, results, wards.containing(x, y), lsoas.containing(x, y), lad_of)


def test_every_sussex_point_gets_an_answer(sussex_geocoded: SussexGeocoded) -> None:
    assert len(sussex_geocoded.results) == len(sussex_geocoded.locations)


def test_every_sussex_point_gets_the_independently_computed_ward_lsoa_and_district(
    sussex_geocoded: SussexGeocoded,
) -> None:
    results, lad_of = sussex_geocoded.results, sussex_geocoded.lad_of
    got = [(r.areas.get("ward"), r.areas.get("lsoa"), r.areas.get("lad")) for r in results]
    want = [
        (w, ls, lad_of.get(w or "")) for w, ls in zip(sussex_geocoded.want_ward, sussex_geocoded.want_lsoa, strict=True)
    ]
    mismatches = [i for i, (g, w) in enumerate(zip(got, want, strict=True)) if g != w]
    assert not mismatches, f"{len(mismatches)} rows differ, first rows {mismatches[:5]}"


def test_some_but_not_all_sussex_points_lie_in_the_ward_file(sussex_geocoded: SussexGeocoded) -> None:
    located = sum(w is not None for w in sussex_geocoded.want_ward)
    assert 0 < located < len(sussex_geocoded.results)  # West Sussex lies outside the ward file


def test_sussex_points_without_a_ward_are_counted_by_reason(
    sussex_geocoded: SussexGeocoded, sussex: SussexRows
) -> None:
    located = sum(w is not None for w in sussex_geocoded.want_ward)
    assert Counter(r.unmatched for r in sussex_geocoded.results if r.areas.get("ward") is None) == {
        "outside_coverage": int(np.isfinite(sussex.lon).sum()) - located,
        **({"no_location": int(np.isnan(sussex.lon).sum())} if np.isnan(sussex.lon).any() else {}),
    }


def test_sussex_lsoas_mostly_agree_with_police_uks_own_codes(
    sussex_geocoded: SussexGeocoded, sussex: SussexRows, shared_data: Path
) -> None:
    # Agreement with police.uk's own (2011) LSOA codes, mapped to 2021 codes.
    to21: dict[str, set[str]] = {}
    with (shared_data / LSOA11_LSOA21_LOOKUP).open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            to21.setdefault(row["lsoa11_code"], set()).add(row["lsoa21_code"])
    compared = agreed = 0
    for result, code11 in zip(sussex_geocoded.results, sussex.lsoa11, strict=True):
        lsoa21 = result.areas.get("lsoa")
        if lsoa21 and code11 in to21:
            compared += 1
            agreed += lsoa21 in to21[code11]
    rate = agreed / compared
    print(f"LSOA agreement with police.uk (2011 codes via lsoa11->lsoa21): {agreed}/{compared} = {rate:.4f}")
    # Not 1.0: police.uk snaps points to anonymised map points whose LSOA it records, both boundary files are
    # generalised (a point near an edge can fall on the other side), and 2011 -> 2021 splits and merges.
    assert rate > 0.8


@dataclass(frozen=True)
class PostcodesGeocoded:
    """Every Eastbourne Code-Point postcode geocoded, with its row and the ward holding its centroid."""

    rows: list[dict[str, str]]
    x: npt.NDArray[np.float64]
    y: npt.NDArray[np.float64]
    want: list[str | None]
    results: list[GeocodeResult]


@pytest.fixture(scope="module")
def postcodes_geocoded(geocoder: Geocoder, wards: Polygons, shared_data: Path) -> PostcodesGeocoded:
    with (shared_data / EASTBOURNE_CODEPOINT).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    postcodes = [r["Postcode"] for r in rows]
    x = np.array([float(r["Eastings"]) for r in rows])
    y = np.array([float(r["Northings"]) for r in rows])
    # Spelt as people write them: lower case, with a space.
    results = geocoder.geocode([PostcodeLocation(postcode=f"{p[:-3]} {p[-3:]}".lower()) for p in postcodes])
    return PostcodesGeocoded(rows, x, y, wards.containing(x, y), results)


def test_postcodes_get_the_ward_holding_their_centroid(postcodes_geocoded: PostcodesGeocoded) -> None:
    assert [r.areas.get("ward") for r in postcodes_geocoded.results] == postcodes_geocoded.want


def test_postcodes_are_placed_at_their_centroid(postcodes_geocoded: PostcodesGeocoded) -> None:
    pc = postcodes_geocoded
    assert [(r.x, r.y) for r in pc.results] == list(zip(pc.x.tolist(), pc.y.tolist(), strict=True))


def test_postcodes_are_located_by_their_centroid(postcodes_geocoded: PostcodesGeocoded) -> None:
    assert {r.method for r in postcodes_geocoded.results} == {"postcode_centroid"}


def test_postcode_quality_follows_code_points_positional_quality(postcodes_geocoded: PostcodesGeocoded) -> None:
    rows, results = postcodes_geocoded.rows, postcodes_geocoded.results
    postcodes = [r["Postcode"] for r in rows]
    quality = {r["Postcode"]: r["Positional_quality_indicator"] for r in rows}
    assert all(r.quality == (2 if quality[p] == "10" else 3) for r, p in zip(results, postcodes, strict=True))


def test_nearly_every_eastbourne_postcode_lies_in_a_ward(postcodes_geocoded: PostcodesGeocoded) -> None:
    assert sum(w is not None for w in postcodes_geocoded.want) > 0.95 * len(postcodes_geocoded.rows)


UNMATCHED_INPUTS = 8


@pytest.fixture(scope="module")
def unmatched_results(geocoder: Geocoder, shared_data: Path) -> list[GeocodeResult]:
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
    assert len(inputs) == UNMATCHED_INPUTS
    return geocoder.geocode(inputs)


def test_no_input_is_dropped(unmatched_results: list[GeocodeResult]) -> None:
    assert len(unmatched_results) == UNMATCHED_INPUTS


def test_each_unmatched_input_gets_its_reason(unmatched_results: list[GeocodeResult]) -> None:
    assert [r.unmatched for r in unmatched_results] == [
        "no_location",
        "outside_coverage",
        "invalid_postcode",
        "unknown_postcode",
        "no_location",
        "invalid_postcode",
        None,
        None,
    ]


def test_unmatched_inputs_are_counted_by_reason(unmatched_results: list[GeocodeResult]) -> None:
    assert Counter(r.unmatched for r in unmatched_results) == {
        "no_location": 2,
        "invalid_postcode": 2,
        "outside_coverage": 1,
        "unknown_postcode": 1,
        None: 2,
    }


def test_an_unknown_unit_in_a_known_sector_gets_the_sector_centroid(unmatched_results: list[GeocodeResult]) -> None:
    assert unmatched_results[7].method == "sector_centroid"


def test_unmatched_inputs_get_no_areas(unmatched_results: list[GeocodeResult]) -> None:
    assert all(not r.areas for r in unmatched_results[:6])


@pytest.fixture(scope="module")
def client(loaded: str, hub_env: HubEnv) -> TestClient:
    """The API, without a key: geocoding is public reference data."""
    return hub_env.client()


def _access_rows(url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(libpq_url(url)) as conn:
        return conn.execute(
            "SELECT org, role, rows, status FROM access_log WHERE endpoint = '/v1/geocode' ORDER BY id"
        ).fetchall()


@dataclass(frozen=True)
class GetAnswers:
    """GET /v1/geocode asked in each form (a WGS84 point, a grid point inside and outside, a postcode)."""

    lat: float
    lon: float
    x: float
    y: float
    body: dict[str, Any]
    grid: dict[str, Any]
    far: dict[str, Any]
    postcode: dict[str, Any]
    logged: list[tuple[object, ...]]


@pytest.fixture(scope="module")
def get_answers(client: TestClient, loaded: str, wards: Polygons, lsoas: Polygons, sussex: SussexRows) -> GetAnswers:
    finite = np.isfinite(sussex.lon)
    all_x, all_y = _TO_BNG.transform(sussex.lon[finite], sussex.lat[finite])
    found = zip(wards.containing(all_x, all_y), lsoas.containing(all_x, all_y), strict=True)
    i = next(k for k, (ward, lsoa) in enumerate(found) if ward and lsoa)  # the first one in East Sussex
    lon, lat = float(sussex.lon[finite][i]), float(sussex.lat[finite][i])
    x, y = _TO_BNG.transform(lon, lat)
    before = len(_access_rows(loaded))
    body = client.get("/v1/geocode", params={"lat": lat, "lon": lon}).json()
    grid = client.get("/v1/geocode", params={"easting": 560000, "northing": 100000}).json()["result"]
    far = client.get("/v1/geocode", params={"easting": FAR_AWAY[0], "northing": FAR_AWAY[1]}).json()["result"]
    pc = client.get("/v1/geocode", params={"postcode": "bn20 0ad"}).json()
    return GetAnswers(lat, lon, x, y, body, grid, far, pc, _access_rows(loaded)[before:])


def test_get_geocode_echoes_a_point_query(get_answers: GetAnswers) -> None:
    assert get_answers.body["query"] == {"lat": get_answers.lat, "lon": get_answers.lon}


def test_get_geocode_gives_a_point_its_ward(get_answers: GetAnswers, wards: Polygons) -> None:
    assert get_answers.body["result"]["areas"]["ward"] == wards.containing([get_answers.x], [get_answers.y])[0]


def test_get_geocode_gives_a_point_its_lsoa(get_answers: GetAnswers, lsoas: Polygons) -> None:
    assert get_answers.body["result"]["areas"]["lsoa"] == lsoas.containing([get_answers.x], [get_answers.y])[0]


def test_get_geocode_gives_a_point_every_level(get_answers: GetAnswers) -> None:
    assert set(get_answers.body["result"]["areas"]) == {"ward", "lsoa", "lad", "csp", "county", "pfa"}


def test_get_geocode_says_how_a_point_was_located(get_answers: GetAnswers) -> None:
    result = get_answers.body["result"]
    assert (result["vintage"], result["method"], result["quality"], result["unmatched"]) == (
        "wards-2024",
        "point_in_polygon",
        1,
        None,
    )


def test_get_geocode_gives_a_point_its_grid_reference(get_answers: GetAnswers) -> None:
    result = get_answers.body["result"]
    assert result["x"] == pytest.approx(get_answers.x) and result["y"] == pytest.approx(get_answers.y)


def test_get_geocode_gives_a_grid_reference_its_ward(get_answers: GetAnswers, wards: Polygons) -> None:
    assert get_answers.grid["areas"].get("ward") == wards.containing([560000], [100000])[0]


def test_get_geocode_says_a_far_grid_reference_is_outside_coverage(get_answers: GetAnswers) -> None:
    far = get_answers.far
    assert (far["areas"], far["unmatched"], far["vintage"]) == ({}, "outside_coverage", None)


def test_get_geocode_echoes_a_postcode_query(get_answers: GetAnswers) -> None:
    assert get_answers.postcode["query"] == {"postcode": "bn20 0ad"}


def test_get_geocode_gives_a_postcode_the_ward_of_its_centroid(get_answers: GetAnswers, wards: Polygons) -> None:
    # BN20 0AD's centroid
    assert get_answers.postcode["result"]["areas"]["ward"] == wards.containing([557151], [95682])[0]


def test_get_geocode_places_a_postcode_at_its_centroid(get_answers: GetAnswers) -> None:
    result = get_answers.postcode["result"]
    assert (result["x"], result["method"]) == (557151, "postcode_centroid")


def test_get_geocode_logs_each_answer_as_public(get_answers: GetAnswers) -> None:
    assert get_answers.logged == [("public", "public", 1, 200)] * 4


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


@pytest.fixture(scope="module")
def unknown_vintage(client: TestClient, loaded: str) -> tuple[Response, tuple[object, ...]]:
    """GET /v1/geocode for a vintage the hub does not have, and the access-log row it left."""
    response = client.get("/v1/geocode", params={"postcode": "BN21 4UH", "vintage": "wards-1999"})
    return response, _access_rows(loaded)[-1]


def test_unknown_vintage_is_404(unknown_vintage: tuple[Response, tuple[object, ...]]) -> None:
    assert unknown_vintage[0].status_code == 404


def test_unknown_vintage_is_named(unknown_vintage: tuple[Response, tuple[object, ...]]) -> None:
    assert "wards-1999" in unknown_vintage[0].json()["detail"]


def test_unknown_vintage_is_logged_as_404(unknown_vintage: tuple[Response, tuple[object, ...]]) -> None:
    assert unknown_vintage[1][3] == 404


POST_ITEMS: list[dict[str, object]] = [
    {"easting": FAR_AWAY[0], "northing": FAR_AWAY[1]},
    {"postcode": "BN20 0AD"},
    {"lat": 50.77, "lon": 0.28},
    {"postcode": "not a postcode"},
    {"easting": 560000, "northing": 100000},
]


@pytest.fixture(scope="module")
def posted(client: TestClient, loaded: str) -> tuple[Response, tuple[object, ...]]:
    """POST /v1/geocode with five items of every form, and the access-log row it left."""
    response = client.post("/v1/geocode", json={"items": POST_ITEMS})
    return response, _access_rows(loaded)[-1]


def test_post_geocode_answers(posted: tuple[Response, tuple[object, ...]]) -> None:
    assert posted[0].status_code == 200


def test_post_geocode_answers_in_order(posted: tuple[Response, tuple[object, ...]]) -> None:
    assert [a["query"] for a in posted[0].json()["result"]] == POST_ITEMS


def test_post_geocode_gives_each_item_its_ward(posted: tuple[Response, tuple[object, ...]], wards: Polygons) -> None:
    ex, ny = _TO_BNG.transform(0.28, 50.77)
    assert [a["result"]["areas"].get("ward") for a in posted[0].json()["result"]] == [
        None,
        wards.containing([557151], [95682])[0],
        wards.containing([ex], [ny])[0],
        None,
        wards.containing([560000], [100000])[0],
    ]


def test_post_geocode_gives_each_unmatched_item_its_reason(posted: tuple[Response, tuple[object, ...]]) -> None:
    assert [a["result"]["unmatched"] for a in posted[0].json()["result"]] == [
        "outside_coverage",
        None,
        None,
        "invalid_postcode",
        None,
    ]


def test_post_geocode_logs_the_number_of_items(posted: tuple[Response, tuple[object, ...]]) -> None:
    assert posted[1] == ("public", "public", 5, 200)


@pytest.mark.parametrize(
    ("items", "status"),
    [
        ([{"postcode": "BN20 0AD"}] * 1000, 200),
        ([{"postcode": "BN20 0AD"}] * 1001, 422),
        ([{"postcode": "B" * 33}], 422),
    ],
    ids=["1000-items", "1001-items", "33-character-postcode"],
)
def test_post_geocode_caps_at_1000_items_and_32_characters(
    client: TestClient, items: list[dict[str, object]], status: int
) -> None:
    assert client.post("/v1/geocode", json={"items": items}).status_code == status


def test_post_geocode_says_a_one_letter_postcode_is_invalid(client: TestClient) -> None:
    short = client.post("/v1/geocode", json={"items": [{"postcode": "B"}]}).json()["result"]
    assert short[0]["result"]["unmatched"] == "invalid_postcode"


@pytest.fixture(scope="module")
def mixed(client: TestClient) -> Response:
    """POST /v1/geocode whose second item gives a latitude without a longitude."""
    response: Response = client.post("/v1/geocode", json={"items": [{"postcode": "BN20 0AD"}, {"lat": 50.8}]})
    return response


def test_post_geocode_refuses_a_half_given_pair(mixed: Response) -> None:
    assert mixed.status_code == 422


def test_post_geocode_says_what_is_wrong_with_a_half_given_pair(mixed: Response) -> None:
    assert "lat and lon must be given together" in json.dumps(mixed.json())


def test_post_geocode_points_at_the_item_with_a_half_given_pair(mixed: Response) -> None:
    assert mixed.json()["errors"][0]["parameter"] == "items[1]"


LOCATE_ROWS = [
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
_EX, _NY = _TO_BNG.transform(0.28, 50.77)
LOCATED_POINTS = {"a": (557151.0, 95682.0), "b": (_EX, _NY), "c": (560000.0, 100000.0)}


@dataclass(frozen=True)
class Located:
    """`locate_csv` run once over a file of every form and fault: its input, the rows written, its summary."""

    source: Path
    written: list[dict[str, str]]
    summary: LocateSummary
    seen: list[int]


@pytest.fixture(scope="module")
def located(geocoder: Geocoder, tmp_path_factory: pytest.TempPathFactory) -> Located:
    tmp_path = tmp_path_factory.mktemp("locate-csv")
    source = tmp_path / "in.csv"
    with source.open("w", newline="") as handle:
        csv.writer(handle).writerows(LOCATE_ROWS)
    out = tmp_path / "out.csv"
    seen: list[int] = []
    summary = locate_csv(source, out, geocoder, seen.append)
    with out.open(newline="") as handle:
        written = list(csv.DictReader(handle))
    return Located(source, written, summary, seen)


LOCATE_HEADER = LOCATE_ROWS[0] + ["hub_easting", "hub_northing", "ward", "lsoa", "lad", "csp", "county", "pfa"]


def test_locate_csv_keeps_the_input_columns_then_adds_the_areas(located: Located) -> None:
    assert list(located.written[0])[: len(LOCATE_HEADER)] == LOCATE_HEADER


def test_locate_csv_ends_with_how_each_row_was_located(located: Located) -> None:
    assert list(located.written[0])[len(LOCATE_HEADER) :] == ["vintage", "method", "quality", "unmatched"]


def test_locate_csv_keeps_every_row_and_every_input_value_in_order(located: Located) -> None:
    assert [[r[c] for c in LOCATE_ROWS[0]] for r in located.written] == LOCATE_ROWS[1:]


def _located_row(located: Located, ref: str) -> dict[str, str]:
    [row] = [r for r in located.written if r["ref"] == ref]
    return row


@pytest.mark.parametrize("ref", sorted(LOCATED_POINTS))
def test_locate_csv_gives_each_located_row_its_ward(located: Located, wards: Polygons, ref: str) -> None:
    px, py = LOCATED_POINTS[ref]
    assert _located_row(located, ref)["ward"] == wards.containing([px], [py])[0]


@pytest.mark.parametrize("ref", sorted(LOCATED_POINTS))
def test_locate_csv_gives_each_located_row_its_lsoa(located: Located, lsoas: Polygons, ref: str) -> None:
    px, py = LOCATED_POINTS[ref]
    assert _located_row(located, ref)["lsoa"] == lsoas.containing([px], [py])[0]


@pytest.mark.parametrize("ref", sorted(LOCATED_POINTS))
def test_locate_csv_gives_each_located_row_its_easting(located: Located, ref: str) -> None:
    px, _ = LOCATED_POINTS[ref]
    assert float(_located_row(located, ref)["hub_easting"]) == pytest.approx(px, abs=0.05)


@pytest.mark.parametrize("ref", sorted(LOCATED_POINTS))
def test_locate_csv_marks_each_located_row_matched_with_its_vintage_district_and_force(
    located: Located, ref: str
) -> None:
    row = _located_row(located, ref)
    assert row["unmatched"] == "" and row["vintage"] == "wards-2024" and row["lad"] and row["pfa"]


def test_locate_csv_gives_each_unlocated_row_its_reason(located: Located) -> None:
    assert {r["ref"]: r["unmatched"] for r in located.written if r["unmatched"]} == {
        "d": INVALID_INPUT,
        "e": "no_location",
        "f": "outside_coverage",
        "g": INVALID_INPUT,
        "h": "invalid_postcode",
        "i": INVALID_INPUT,
        "j": "no_location",
        "k": "invalid_postcode",
    }


def test_locate_csv_counts_rows_read_and_matched_and_reports_progress(located: Located) -> None:
    assert located.summary.rows == 11 and located.summary.matched == 3 and located.seen == [11]


def test_locate_csv_counts_unmatched_rows_by_reason(located: Located) -> None:
    assert located.summary.unmatched == {
        INVALID_INPUT: 3,
        "no_location": 2,
        "outside_coverage": 1,
        "invalid_postcode": 2,
    }


def test_locate_csv_reports_each_bad_value_by_row_and_column(located: Located) -> None:
    assert located.summary.problems == [
        f"{located.source}, row 5, column 'Lat': not a number",
        f"{located.source}, row 8, column 'Northing': missing (the other of the pair is given)",
        f"{located.source}, row 10, column 'Lat': out of range",
    ]


def test_locate_csv_reports_no_input_value(located: Located) -> None:
    assert "fifty" not in " ".join(located.summary.problems)


def test_locate_csv_detects_columns_whatever_their_case(geocoder: Geocoder, tmp_path: Path) -> None:
    lower = tmp_path / "latlon.csv"
    lower.write_text("LATITUDE,longitude\n50.77,0.28\n")
    summary = locate_csv(lower, tmp_path / "latlon-out.csv", geocoder)
    assert summary.columns == {"lat": "LATITUDE", "lon": "longitude"} and summary.matched == 1


@dataclass(frozen=True)
class LocateCommand:
    """`locate` run as a command: its app, runner, folder, and the result and output of one good run."""

    app: typer.Typer
    runner: CliRunner
    tmp_path: Path
    out: Path
    result: Result


@pytest.fixture(scope="module")
def locate_command(loaded: str, hub_env: HubEnv, tmp_path_factory: pytest.TempPathFactory) -> LocateCommand:
    app = typer.Typer()
    app.command()(locate)
    tmp_path = tmp_path_factory.mktemp("locate-command")
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text("postcode,note\nBN20 0AD,x\nZZ99 9ZZ,y\n,z\n")
    runner = CliRunner(env=hub_env.env)  # the command reads HUB_* settings, as `hub geo locate` does
    return LocateCommand(app, runner, tmp_path, out, runner.invoke(app, [str(source), str(out)]))


def test_locate_command_succeeds(locate_command: LocateCommand) -> None:
    assert locate_command.result.exit_code == 0, locate_command.result.output


def test_locate_command_summarises_rows_and_matches(locate_command: LocateCommand) -> None:
    output = locate_command.result.output
    assert "3 rows" in output and "matched: 1" in output


def test_locate_command_summarises_unmatched_rows_by_reason(locate_command: LocateCommand) -> None:
    output = locate_command.result.output
    assert "unmatched no_location: 1" in output and "unmatched unknown_postcode: 1" in output


def test_locate_command_summary_has_no_input_values(locate_command: LocateCommand) -> None:
    assert "BN20" not in locate_command.result.output  # no input values in the summary


def test_locate_command_writes_every_row(locate_command: LocateCommand) -> None:
    assert len(locate_command.out.read_text().splitlines()) == 4


def test_locate_command_fails_on_a_missing_file(locate_command: LocateCommand) -> None:
    cmd = locate_command
    missing = cmd.runner.invoke(cmd.app, [str(cmd.tmp_path / "none.csv"), str(cmd.out)])
    assert missing.exit_code == 1


def test_locate_command_refuses_a_file_without_location_columns(locate_command: LocateCommand) -> None:
    cmd = locate_command
    nocols = cmd.tmp_path / "nocols.csv"
    nocols.write_text("a,b\n1,2\n")
    refused = cmd.runner.invoke(cmd.app, [str(nocols), str(cmd.out)])
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
