"""OGC API - Features over the Sussex police.uk file and the Colchester police API extract, checked independently."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from httpx import Response
from shapely.geometry import box

from deploy.protocol_files import packaged_protocols_dir
from tests.support.hub import HubEnv, Worker
from tests.support.open_data import COLCHESTER_API, SUSSEX_STREET
from tests.support.police_points import Wards, load_wards, publish, to_wgs84, ward_months

pytestmark = pytest.mark.integration

API_WARDS = "police-uk-api-ward-monthly"
CONFORMANCE = {
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
}
COLCHESTER_CENTRE = (0.88, 51.88, 0.92, 51.90)


@pytest.fixture(scope="module")
def loaded(hub_env: HubEnv, worker: Worker, shared_data: Path) -> Iterator[None]:
    assert "11404 rows read, 11404 published" in publish(hub_env.env, "police-uk-street", shared_data / SUSSEX_STREET)
    assert "6878 rows read, 6878 published" in publish(hub_env.env, "police-uk-api", shared_data / COLCHESTER_API)
    worker.wait_until_loaded()
    yield


@pytest.fixture(scope="module")
def wards(shared_data: Path) -> Wards:
    return load_wards(shared_data)


@pytest.fixture(scope="module")
def colchester(wards: Wards, shared_data: Path) -> Counter[tuple[str, str]]:
    """Events per (ward, month) of the Colchester extract, from its coordinates."""
    return ward_months(wards, shared_data / COLCHESTER_API, lon="long", lat="lat", month="date")


def expected_collections(org: str) -> set[str]:
    """Collections an organisation should see, read straight from the packaged protocol YAML files."""
    today = datetime.now(UTC).date()
    found = set()
    for path in packaged_protocols_dir().glob("*.yaml"):
        doc = yaml.safe_load(path.read_text())
        expires = doc.get("expires")
        if doc["status"] != "active" or not doc["valid_from"] <= today <= doc["review_due"]:
            continue
        if expires is not None and today > expires:
            continue
        for clause in doc["clauses"]:
            if org not in clause["recipients"] or not {"location", "period"} <= set(clause["fields"]):
                continue
            precision = clause["spatial_precision"]
            for dataset in clause["datasets"]:
                if precision in ("point", "ward"):
                    found.add(f"{dataset}-ward-monthly")
                if precision in ("point", "lsoa", "ward", "district"):
                    found.add(f"{dataset}-lad-monthly")
    return found


def _links(document: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {link["rel"]: link for link in document["links"]}


def walk(client: TestClient, url: str, **params: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every page from `url` following next links: the features and the pages' bodies."""
    pages = []
    response = client.get(url, params=params)
    while True:
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/geo+json")
        body = response.json()
        assert body["type"] == "FeatureCollection" and body["numberReturned"] == len(body["features"])
        pages.append(body)
        following = _links(body).get("next")
        if following is None:
            break
        assert following["type"] == "application/geo+json" and "f=json" in following["href"]
        response = client.get(following["href"])
    return [f for page in pages for f in page["features"]], pages


def _month_in(month: str, first: date, last: date) -> bool:
    return first <= date(int(month[:4]), int(month[5:7]), 1) <= last


@pytest.fixture(scope="module")
def essex(loaded: None, hub_env: HubEnv) -> TestClient:
    """Essex CSP's analyst, with one key for the module."""
    return hub_env.api_client("essex-csp", "analyst")


@dataclass(frozen=True)
class Landing:
    """The landing page and the documents its links lead to."""

    response: Response
    links: dict[str, dict[str, str]]
    api: dict[str, Any]
    conformance: dict[str, Any]
    data: dict[str, Any]


@pytest.fixture(scope="module")
def landing(loaded: None, hub_env: HubEnv) -> Landing:
    client = hub_env.client()
    response = client.get("/")
    links = _links(response.json())
    return Landing(
        response,
        links,
        client.get(links["service-desc"]["href"]).json(),
        client.get(links["conformance"]["href"]).json(),
        client.get(links["data"]["href"]).json(),
    )


def test_landing_page_is_json(landing: Landing) -> None:
    assert landing.response.status_code == 200 and landing.response.headers["content-type"] == "application/json"


def test_landing_page_links_the_api_conformance_and_data(landing: Landing) -> None:
    assert {"self", "service-desc", "conformance", "data"} <= set(landing.links)


def test_landing_page_links_an_openapi_30_description(landing: Landing) -> None:
    assert (
        landing.links["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    )  # what QGIS looks for


def test_landing_page_links_the_data_as_json(landing: Landing) -> None:
    assert landing.links["data"]["type"] == "application/json"


def test_the_api_description_has_the_ogc_paths(landing: Landing) -> None:
    assert {"/collections", "/collections/{collectionId}/items", "/conformance", "/"} <= set(landing.api["paths"])


def test_conformance_declares_core_geojson_and_openapi(landing: Landing) -> None:
    assert set(landing.conformance["conformsTo"]) == CONFORMANCE


def test_the_data_link_lists_the_collections(landing: Landing) -> None:
    assert "collections" in landing.data


@pytest.fixture(scope="module")
def essex_collections(essex: TestClient) -> list[dict[str, Any]]:
    """/collections as Essex CSP's analyst sees them."""
    collections: list[dict[str, Any]] = essex.get("/collections").json()["collections"]
    return collections


def test_collections_are_those_the_protocols_allow(essex_collections: list[dict[str, Any]]) -> None:
    assert {c["id"] for c in essex_collections} == expected_collections("essex-csp")


def test_collections_include_the_api_and_street_collections(essex_collections: list[dict[str, Any]]) -> None:
    ids = {c["id"] for c in essex_collections}
    assert {API_WARDS, "police-uk-api-lad-monthly", "police-uk-street-ward-monthly"} <= ids


def test_collections_link_their_items_as_geojson(essex_collections: list[dict[str, Any]]) -> None:
    assert all(_links(c)["items"]["type"] == "application/geo+json" for c in essex_collections)


def test_collections_link_their_own_items(essex_collections: list[dict[str, Any]]) -> None:
    for collection in essex_collections:
        assert _links(collection)["items"]["href"].split("?")[0].endswith(f"/collections/{collection['id']}/items")


def test_collections_hold_features(essex_collections: list[dict[str, Any]]) -> None:
    assert all(collection["itemType"] == "feature" for collection in essex_collections)


@pytest.fixture(scope="module")
def api_wards_collection(essex: TestClient) -> dict[str, Any]:
    document: dict[str, Any] = essex.get(f"/collections/{API_WARDS}").json()
    return document


def test_a_collection_document_names_itself(api_wards_collection: dict[str, Any]) -> None:
    assert api_wards_collection["id"] == API_WARDS


def test_collection_temporal_extent_is_that_of_its_months(api_wards_collection: dict[str, Any]) -> None:
    interval = api_wards_collection["extent"]["temporal"]["interval"]
    assert interval == [["2023-01-01T00:00:00Z", "2023-12-31T23:59:59Z"]]


def test_collection_spatial_extent_is_that_of_its_areas(
    api_wards_collection: dict[str, Any], wards: Wards, colchester: Counter[Any]
) -> None:
    areas = [to_wgs84(wards.polygons[ward]).bounds for ward in {w for w, _ in colchester}]
    expected = [min(a[0] for a in areas), min(a[1] for a in areas), max(a[2] for a in areas), max(a[3] for a in areas)]
    [served] = api_wards_collection["extent"]["spatial"]["bbox"]
    assert served == pytest.approx(expected, abs=1e-5)


def test_collection_spatial_extent_is_in_crs84(api_wards_collection: dict[str, Any]) -> None:
    assert api_wards_collection["extent"]["spatial"]["crs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def _served(features: list[dict[str, Any]]) -> dict[tuple[str, str], int | None]:
    return {(f["properties"]["area_code"], f["properties"]["month"]): f["properties"]["count"] for f in features}


@dataclass(frozen=True)
class Walked:
    """Every page of a collection's items followed by next links: the features and the pages' bodies."""

    features: list[dict[str, Any]]
    pages: list[dict[str, Any]]


@pytest.fixture(scope="module")
def paged(essex: TestClient) -> Walked:
    """The Colchester ward counts walked 37 features a page."""
    return Walked(*walk(essex, f"/collections/{API_WARDS}/items", limit="37"))


def test_paging_matches_every_feature_on_every_page(paged: Walked, colchester: Counter[tuple[str, str]]) -> None:
    assert all(page["numberMatched"] == len(colchester) for page in paged.pages)


def test_paging_serves_the_pages_the_limit_implies(paged: Walked, colchester: Counter[tuple[str, str]]) -> None:
    assert len(paged.pages) == -(-len(colchester) // 37)


def test_paging_walks_every_feature_once(paged: Walked, colchester: Counter[tuple[str, str]]) -> None:
    ids = [f["id"] for f in paged.features]
    assert len(ids) == len(set(ids)) == len(colchester)


def test_paging_serves_the_counts_of_the_file(paged: Walked, colchester: Counter[tuple[str, str]]) -> None:
    assert _served(paged.features) == dict(colchester)  # exact: the clause keeps counts exact


def test_paging_links_back_from_every_page_but_the_first(paged: Walked) -> None:
    assert all("prev" in _links(page) for page in paged.pages[1:]) and "prev" not in _links(paged.pages[0])


@pytest.fixture(scope="module")
def single(paged: Walked, essex: TestClient) -> Response:
    """One feature asked for by its id."""
    response: Response = essex.get(f"/collections/{API_WARDS}/items/{paged.features[40]['id']}")
    return response


def test_a_single_feature_is_served_as_geojson(single: Response) -> None:
    assert single.status_code == 200 and single.headers["content-type"].startswith("application/geo+json")


def test_a_single_feature_is_the_one_paging_served(single: Response, paged: Walked) -> None:
    one = paged.features[40]
    assert {k: single.json()[k] for k in ("id", "properties", "geometry")} == {
        k: one[k] for k in ("id", "properties", "geometry")
    }


def test_an_unknown_feature_is_404(essex: TestClient) -> None:
    assert essex.get(f"/collections/{API_WARDS}/items/E05000000.2023-01").status_code == 404


@pytest.mark.parametrize(
    ("collection", "dataset", "level", "first", "last"),
    [
        (API_WARDS, "police-uk-api", "ward", "2023-01", "2023-12"),
        ("police-uk-api-lad-monthly", "police-uk-api", "lad", "2023-01", "2023-12"),
        ("police-uk-street-ward-monthly", "police-uk-street", "ward", "2019-01", "2019-01"),
    ],
)
def test_counts_equal_those_of_v1_counts(
    essex: TestClient, collection: str, dataset: str, level: str, first: str, last: str
) -> None:
    features, _ = walk(essex, f"/collections/{collection}/items", limit="500")
    counts = essex.get("/v1/counts", params={"dataset": dataset, "level": level, "from": first, "to": last}).json()
    assert _served(features) == {(r["area_code"], r["period"]): r["count"] for r in counts["rows"]}


@pytest.fixture(scope="module")
def inside_centre(wards: Wards, colchester: Counter[tuple[str, str]]) -> set[str]:
    """The Colchester wards that intersect the centre's box, computed here."""
    area = box(*COLCHESTER_CENTRE)
    return {w for w in {w for w, _ in colchester} if to_wgs84(wards.polygons[w]).intersects(area)}


@pytest.fixture(scope="module")
def in_bbox(essex: TestClient) -> Walked:
    """The Colchester ward counts walked within the centre's box."""
    return Walked(
        *walk(
            essex,
            f"/collections/{API_WARDS}/items",
            bbox=",".join(map(str, COLCHESTER_CENTRE)),
            limit="50",
        )
    )


def test_the_bbox_holds_some_but_not_all_colchester_wards(
    inside_centre: set[str], colchester: Counter[tuple[str, str]]
) -> None:
    assert 0 < len(inside_centre) < len({w for w, _ in colchester})


def test_bbox_matches_the_areas_intersecting_it(
    in_bbox: Walked, inside_centre: set[str], colchester: Counter[tuple[str, str]]
) -> None:
    assert in_bbox.pages[0]["numberMatched"] == len({key for key in colchester if key[0] in inside_centre})


def test_bbox_keeps_the_areas_intersecting_it(
    in_bbox: Walked, inside_centre: set[str], colchester: Counter[tuple[str, str]]
) -> None:
    assert _served(in_bbox.features) == {key: n for key, n in colchester.items() if key[0] in inside_centre}


DATETIMES = [
    ("2023-03-01/2023-05-31", date(2023, 3, 1), date(2023, 5, 1)),
    ("../2023-02-10T00:00:00Z", date(2000, 1, 1), date(2023, 2, 1)),
    ("2023-11-01T00:00:00Z/..", date(2023, 11, 1), date(2099, 1, 1)),
    ("2023-12-15T12:00:00Z", date(2023, 12, 1), date(2023, 12, 1)),
    ("2023-06-30T23:59:59+00:00/2023-07-01T00:00:00Z", date(2023, 6, 1), date(2023, 7, 1)),
]


@dataclass(frozen=True)
class InTime:
    """The Colchester ward counts walked within a datetime, and the counts of the file in the months it overlaps."""

    walked: Walked
    expected: dict[tuple[str, str], int]


@pytest.fixture(scope="module", params=DATETIMES, ids=[value for value, _, _ in DATETIMES])
def in_time(request: pytest.FixtureRequest, colchester: Counter[tuple[str, str]], essex: TestClient) -> InTime:
    value, first, last = request.param
    walked = Walked(*walk(essex, f"/collections/{API_WARDS}/items", datetime=value, limit="200"))
    return InTime(walked, {key: n for key, n in colchester.items() if _month_in(key[1], first, last)})


def test_datetime_matches_the_months_overlapping_it(in_time: InTime) -> None:
    assert in_time.walked.pages[0]["numberMatched"] == len(in_time.expected) > 0


def test_datetime_keeps_the_months_overlapping_it(in_time: InTime) -> None:
    assert _served(in_time.walked.features) == in_time.expected


@pytest.mark.parametrize(
    "params",
    [
        {"bbox": "1,2,3"},
        {"bbox": "a,b,c,d"},
        {"datetime": "yesterday"},
        {"datetime": "../.."},
        {"limit": "0"},
        {"datetime": "2023-05-01/2023-04-01"},
    ],
)
def test_invalid_parameters_get_400(essex: TestClient, params: dict[str, str]) -> None:
    assert essex.get(f"/collections/{API_WARDS}/items", params=params).status_code == 400, params


def test_large_limits_are_capped(essex: TestClient) -> None:
    capped = essex.get(f"/collections/{API_WARDS}/items", params={"limit": "20000"}).json()
    assert "limit=10000" in _links(capped)["self"]["href"]


def test_an_unknown_collection_is_404(essex: TestClient) -> None:
    assert essex.get("/collections/no-such-collection/items").status_code == 404


@pytest.fixture(scope="module")
def public_collection_ids(loaded: None, hub_env: HubEnv) -> set[str]:
    """/collections asked without a key."""
    return {c["id"] for c in hub_env.client().get("/collections").json()["collections"]}


def test_the_public_without_a_key_sees_only_public_collections(public_collection_ids: set[str]) -> None:
    assert public_collection_ids == expected_collections("public")


def test_the_public_sees_the_street_districts_but_nothing_of_the_api(public_collection_ids: set[str]) -> None:
    ids = public_collection_ids
    assert "police-uk-street-lad-monthly" in ids and not any(i.startswith("police-uk-api") for i in ids)


def test_the_public_does_not_see_street_wards(public_collection_ids: set[str]) -> None:
    assert "police-uk-street-ward-monthly" not in public_collection_ids  # the public clause is at LSOA precision


@pytest.mark.parametrize("path", [f"/collections/{API_WARDS}/items", f"/collections/{API_WARDS}"])
def test_the_public_gets_404_for_a_collection_it_may_not_see(loaded: None, hub_env: HubEnv, path: str) -> None:
    assert hub_env.client().get(path).status_code == 404


def test_the_public_collection_counts_equal_those_of_v1_counts(loaded: None, hub_env: HubEnv) -> None:
    public = hub_env.client()
    features, _ = walk(public, "/collections/police-uk-street-lad-monthly/items")
    counts = public.get(
        "/v1/counts", params={"dataset": "police-uk-street", "level": "lad", "from": "2019-01", "to": "2019-01"}
    ).json()
    assert features and _served(features) == {(r["area_code"], r["period"]): r["count"] for r in counts["rows"]}


def test_a_partner_is_refused_the_collections(loaded: None, hub_env: HubEnv) -> None:
    assert hub_env.api_client("police-uk", "partner").get("/collections").status_code == 403
