"""GET /v1/datasets and GET /v1/areas: what an analyst may ask the aggregate endpoints about, and the areas their
organisation serves, each within the protocols in force and nobody else's.

The Eastbourne January 2019 street file is published; the expected categories come from the file itself (mapped to
the published police.uk slugs; those with fewer than LISTED_CATEGORY_EVENTS rows are not offered), the expected
wards of Eastbourne from the ONS ward -> district lookup file.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.services.datasets import LISTED_CATEGORY_EVENTS
from sharing_protocols.datasets.police_uk_street import CATEGORIES
from tests.support.hub import HubEnv, Worker
from tests.support.open_data import EASTBOURNE_STREET, WARD_LAD_LOOKUP
from tests.support.police_points import publish
from tests.support.reference_data import ALL_LOOKUPS, load_reference

pytestmark = pytest.mark.integration

EASTBOURNE = "E07000061"
STREET = "police-uk-street"


@pytest.fixture(scope="module")
def loaded(hub_env: HubEnv, shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    load_reference(hub_env.database_url, lookups=ALL_LOOKUPS, data=shared_data)
    worker = Worker(hub_env, tmp_path_factory.mktemp("areas") / "worker.log")  # after the lookups: read at start
    assert "907 rows read, 907 published" in publish(hub_env.env, STREET, shared_data / EASTBOURNE_STREET)
    worker.wait_until_loaded()
    yield
    worker.stop()


@pytest.fixture(scope="module")
def eastbourne_wards(shared_data: Path) -> set[str]:
    with (shared_data / WARD_LAD_LOOKUP).open(encoding="utf-8-sig", newline="") as handle:
        return {row["WD24CD"] for row in csv.DictReader(handle) if row["LAD24CD"] == EASTBOURNE}


def _get(client: TestClient, path: str, **params: str) -> Any:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _street(body: list[dict[str, Any]]) -> dict[str, Any]:
    [found] = [d for d in body if d["dataset"] == STREET]
    return found


def test_an_analyst_is_offered_the_levels_categories_and_months_of_their_clauses(
    loaded: None, hub_env: HubEnv, shared_data: Path
) -> None:
    with (shared_data / EASTBOURNE_STREET).open(encoding="utf-8", newline="") as handle:
        in_file = Counter(CATEGORIES[row["Crime type"]] for row in csv.DictReader(handle))
    expected = sorted(category for category, events in in_file.items() if events >= LISTED_CATEGORY_EVENTS)
    rare = {category for category, events in in_file.items() if events < LISTED_CATEGORY_EVENTS}
    assert rare, "the file has no rare category: the test would not show that rare ones are left out"
    street = _street(_get(hub_env.api_client("eastbourne-csp", "analyst"), "/v1/datasets"))
    # police-to-csp-analysts grants ward precision: wards and every level made of them, never LSOAs
    assert street["levels"] == ["ward", "lad", "csp", "county", "pfa"]
    assert street["by_category"] is True
    assert street["categories"] == expected  # a category with a few events is not told to exist
    assert not rare & set(street["categories"])
    assert (street["first_month"], street["last_month"]) == ("2019-01", "2019-01")
    assert street["protocols"] == ["police-to-csp-analysts@1#csp-ward-records"]


def test_another_csp_learns_nothing_of_events_outside_its_area(loaded: None, hub_env: HubEnv) -> None:
    """Essex CSP's clause is the same, scoped to Essex: Eastbourne's events give it no month and no category."""
    street = _street(_get(hub_env.api_client("essex-csp", "analyst"), "/v1/datasets"))
    assert street["levels"] == ["ward", "lad", "csp", "county", "pfa"]
    assert (street["first_month"], street["last_month"], street["categories"]) == (None, None, [])


def test_a_partner_key_is_refused(loaded: None, hub_env: HubEnv) -> None:
    client = hub_env.api_client("sussex-police", "partner")
    for path in ("/v1/datasets", "/v1/areas"):
        response = client.get(path)
        assert response.status_code == 403, response.text
        assert response.headers["content-type"].startswith("application/problem+json")


def test_the_areas_an_analyst_serves_at_each_level(loaded: None, hub_env: HubEnv, eastbourne_wards: set[str]) -> None:
    client = hub_env.api_client("eastbourne-csp", "analyst")
    districts = _get(client, "/v1/areas")
    assert districts["level"] == "lad"
    assert [a["area_code"] for a in districts["areas"]] == [EASTBOURNE]
    assert districts["areas"][0]["area_name"] == "Eastbourne"
    assert {d["level"] for d in districts["declared"]} == {"lad"}
    wards = _get(client, "/v1/areas", level="ward")
    assert {a["area_code"] for a in wards["areas"]} == eastbourne_wards


def test_the_areas_as_geojson_are_wgs84_shapes_in_sussex(loaded: None, hub_env: HubEnv) -> None:
    client = hub_env.api_client("eastbourne-csp", "analyst")
    response = client.get("/v1/areas", params={"format": "geojson"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/geo+json"
    body = response.json()
    [outline] = body["features"]
    assert outline["properties"] == {"area_code": EASTBOURNE, "area_name": "Eastbourne"}
    assert outline["geometry"]["type"] in ("Polygon", "MultiPolygon")
    rings = outline["geometry"]["coordinates"]
    points = [
        p
        for ring in (rings if outline["geometry"]["type"] == "Polygon" else [r for p in rings for r in p])
        for p in ring
    ]
    # Eastbourne lies about 0.2-0.35 degrees east, 50.73-50.82 degrees north
    assert all(0.1 < lon < 0.4 and 50.7 < lat < 50.85 for lon, lat in points)


def test_other_organisations_see_only_their_own_areas(loaded: None, hub_env: HubEnv) -> None:
    essex = _get(hub_env.api_client("essex-csp", "analyst"), "/v1/areas")
    assert [a["area_code"] for a in essex["areas"]] == [f"E070000{n}" for n in range(66, 78)]
    operator = _get(hub_env.api_client("hub", "ig_lead"), "/v1/areas")  # the operator serves no area
    assert operator["areas"] == [] and operator["declared"] == []


def test_a_level_coarser_than_the_declared_areas_is_a_problem(loaded: None, hub_env: HubEnv) -> None:
    client = hub_env.api_client("eastbourne-csp", "analyst")
    for level, status in (("pfa", 422), ("nowhere", 422)):
        response = client.get("/v1/areas", params={"level": level})
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    assert client.get("/v1/areas", params={"format": "xml"}).status_code == 422
