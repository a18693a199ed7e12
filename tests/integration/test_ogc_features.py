"""OGC API - Features over the Sussex police.uk file and the Colchester police API extract, checked independently."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
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


def test_landing_page_and_conformance(loaded: None, hub_env: HubEnv) -> None:
    client = hub_env.client()
    landing = client.get("/")
    assert landing.status_code == 200 and landing.headers["content-type"] == "application/json"
    links = _links(landing.json())
    assert {"self", "service-desc", "conformance", "data"} <= set(links)
    assert links["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"  # what QGIS looks for
    assert links["data"]["type"] == "application/json"
    api = client.get(links["service-desc"]["href"]).json()
    assert {"/collections", "/collections/{collectionId}/items", "/conformance", "/"} <= set(api["paths"])
    assert set(client.get(links["conformance"]["href"]).json()["conformsTo"]) == CONFORMANCE
    assert "collections" in client.get(links["data"]["href"]).json()


def test_collections_are_those_the_protocols_allow(loaded: None, hub_env: HubEnv) -> None:
    body = hub_env.api_client("essex-csp", "analyst").get("/collections").json()
    ids = {c["id"] for c in body["collections"]}
    assert ids == expected_collections("essex-csp")
    assert {API_WARDS, "police-uk-api-lad-monthly", "police-uk-street-ward-monthly"} <= ids
    for collection in body["collections"]:
        links = _links(collection)
        assert links["items"]["type"] == "application/geo+json"
        assert links["items"]["href"].split("?")[0].endswith(f"/collections/{collection['id']}/items")
        assert collection["itemType"] == "feature"


def test_collection_extent_is_that_of_its_areas_and_months(
    loaded: None, wards: Wards, colchester: Counter[Any], hub_env: HubEnv
) -> None:
    document = hub_env.api_client("essex-csp", "analyst").get(f"/collections/{API_WARDS}").json()
    assert document["id"] == API_WARDS
    assert document["extent"]["temporal"]["interval"] == [["2023-01-01T00:00:00Z", "2023-12-31T23:59:59Z"]]
    areas = [to_wgs84(wards.polygons[ward]).bounds for ward in {w for w, _ in colchester}]
    expected = [min(a[0] for a in areas), min(a[1] for a in areas), max(a[2] for a in areas), max(a[3] for a in areas)]
    [served] = document["extent"]["spatial"]["bbox"]
    assert served == pytest.approx(expected, abs=1e-5)
    assert document["extent"]["spatial"]["crs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def test_paging_walks_every_feature_once_with_the_counts_of_the_file(
    loaded: None, colchester: Counter[tuple[str, str]], hub_env: HubEnv
) -> None:
    client = hub_env.api_client("essex-csp", "analyst")
    features, pages = walk(client, f"/collections/{API_WARDS}/items", limit="37")
    assert all(page["numberMatched"] == len(colchester) for page in pages)
    assert len(pages) == -(-len(colchester) // 37)
    ids = [f["id"] for f in features]
    assert len(ids) == len(set(ids)) == len(colchester)
    served = {(f["properties"]["area_code"], f["properties"]["month"]): f["properties"]["count"] for f in features}
    assert served == dict(colchester)  # exact: the clause keeps counts exact
    assert all("prev" in _links(page) for page in pages[1:]) and "prev" not in _links(pages[0])
    one = features[40]
    single = client.get(f"/collections/{API_WARDS}/items/{one['id']}")
    assert single.status_code == 200 and single.headers["content-type"].startswith("application/geo+json")
    assert {k: single.json()[k] for k in ("id", "properties", "geometry")} == {
        k: one[k] for k in ("id", "properties", "geometry")
    }
    assert client.get(f"/collections/{API_WARDS}/items/E05000000.2023-01").status_code == 404


def test_counts_equal_those_of_v1_counts(loaded: None, hub_env: HubEnv) -> None:
    client = hub_env.api_client("essex-csp", "analyst")
    for collection, dataset, level, first, last in (
        (API_WARDS, "police-uk-api", "ward", "2023-01", "2023-12"),
        ("police-uk-api-lad-monthly", "police-uk-api", "lad", "2023-01", "2023-12"),
        ("police-uk-street-ward-monthly", "police-uk-street", "ward", "2019-01", "2019-01"),
    ):
        features, _ = walk(client, f"/collections/{collection}/items", limit="500")
        counts = client.get("/v1/counts", params={"dataset": dataset, "level": level, "from": first, "to": last}).json()
        assert {
            (f["properties"]["area_code"], f["properties"]["month"]): f["properties"]["count"] for f in features
        } == {(r["area_code"], r["period"]): r["count"] for r in counts["rows"]}


def test_bbox_keeps_the_areas_intersecting_it(
    loaded: None, wards: Wards, colchester: Counter[tuple[str, str]], hub_env: HubEnv
) -> None:
    area = box(*COLCHESTER_CENTRE)
    inside = {w for w in {w for w, _ in colchester} if to_wgs84(wards.polygons[w]).intersects(area)}
    assert 0 < len(inside) < len({w for w, _ in colchester})
    features, pages = walk(
        hub_env.api_client("essex-csp", "analyst"),
        f"/collections/{API_WARDS}/items",
        bbox=",".join(map(str, COLCHESTER_CENTRE)),
        limit="50",
    )
    expected = {key: n for key, n in colchester.items() if key[0] in inside}
    assert pages[0]["numberMatched"] == len(expected)
    assert {
        (f["properties"]["area_code"], f["properties"]["month"]): f["properties"]["count"] for f in features
    } == expected


@pytest.mark.parametrize(
    ("value", "first", "last"),
    [
        ("2023-03-01/2023-05-31", date(2023, 3, 1), date(2023, 5, 1)),
        ("../2023-02-10T00:00:00Z", date(2000, 1, 1), date(2023, 2, 1)),
        ("2023-11-01T00:00:00Z/..", date(2023, 11, 1), date(2099, 1, 1)),
        ("2023-12-15T12:00:00Z", date(2023, 12, 1), date(2023, 12, 1)),
        ("2023-06-30T23:59:59+00:00/2023-07-01T00:00:00Z", date(2023, 6, 1), date(2023, 7, 1)),
    ],
)
def test_datetime_keeps_the_months_overlapping_it(
    loaded: None, colchester: Counter[tuple[str, str]], value: str, first: date, last: date, hub_env: HubEnv
) -> None:
    features, pages = walk(
        hub_env.api_client("essex-csp", "analyst"), f"/collections/{API_WARDS}/items", datetime=value, limit="200"
    )
    expected = {key: n for key, n in colchester.items() if _month_in(key[1], first, last)}
    assert pages[0]["numberMatched"] == len(expected) > 0
    assert {
        (f["properties"]["area_code"], f["properties"]["month"]): f["properties"]["count"] for f in features
    } == expected


def test_invalid_parameters_get_400_and_large_limits_are_capped(loaded: None, hub_env: HubEnv) -> None:
    client = hub_env.api_client("essex-csp", "analyst")
    items = f"/collections/{API_WARDS}/items"
    for params in ({"bbox": "1,2,3"}, {"bbox": "a,b,c,d"}, {"datetime": "yesterday"}, {"datetime": "../.."}):
        assert client.get(items, params=params).status_code == 400, params
    assert client.get(items, params={"limit": "0"}).status_code == 400
    assert client.get(items, params={"datetime": "2023-05-01/2023-04-01"}).status_code == 400
    capped = client.get(items, params={"limit": "20000"}).json()
    assert "limit=10000" in _links(capped)["self"]["href"]
    assert client.get("/collections/no-such-collection/items").status_code == 404


def test_the_public_without_a_key_sees_only_public_collections(loaded: None, hub_env: HubEnv) -> None:
    public = hub_env.client()
    body = public.get("/collections").json()
    ids = {c["id"] for c in body["collections"]}
    assert ids == expected_collections("public")
    assert "police-uk-street-lad-monthly" in ids and not any(i.startswith("police-uk-api") for i in ids)
    assert "police-uk-street-ward-monthly" not in ids  # the public clause is at LSOA precision
    assert public.get(f"/collections/{API_WARDS}/items").status_code == 404
    assert public.get(f"/collections/{API_WARDS}").status_code == 404
    features, _ = walk(public, "/collections/police-uk-street-lad-monthly/items")
    counts = public.get(
        "/v1/counts", params={"dataset": "police-uk-street", "level": "lad", "from": "2019-01", "to": "2019-01"}
    ).json()
    assert features and {
        (f["properties"]["area_code"], f["properties"]["month"]): f["properties"]["count"] for f in features
    } == {(r["area_code"], r["period"]): r["count"] for r in counts["rows"]}
    assert hub_env.api_client("police-uk", "partner").get("/collections").status_code == 403
