"""The Sussex police.uk file through publish -> Kafka -> worker -> PostGIS -> API, checked independently."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import shapely
import yaml
from pyproj import Transformer
from shapely.geometry import shape
from sqlalchemy import Engine, text

from deploy.protocol_files import packaged_protocols_dir
from tests.support.hub import HubEnv, Worker
from tests.support.open_data import POLICE_UK_CATEGORIES, SUSSEX_STREET, WARD_LAD_LOOKUP, WARDS_2024

pytestmark = pytest.mark.integration


def expected_counts(shared_data: Path) -> tuple[Counter[tuple[str, str]], Counter[str]]:
    """Ward x category counts and unlocated counts computed straight from the CSV, ward file and code list."""
    with (shared_data / POLICE_UK_CATEGORIES).open(encoding="utf-8", newline="") as handle:
        slugs = {r["display_name"]: r["slug"] for r in csv.DictReader(handle) if r["kind"] == "category"}
    features = json.loads((shared_data / WARDS_2024).read_text())["features"]
    codes = [f["properties"]["ward_code"] for f in features]
    polygons = [shape(f["geometry"]) for f in features]
    tree = shapely.STRtree(polygons)
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    located: Counter[tuple[str, str]] = Counter()
    unlocated: Counter[str] = Counter()
    with (shared_data / SUSSEX_STREET).open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if not row["Longitude"]:
                unlocated["no_location"] += 1
                continue
            x, y = to_bng.transform(float(row["Longitude"]), float(row["Latitude"]))
            point = shapely.Point(x, y)
            hits = sorted(codes[i] for i in tree.query(point) if polygons[i].covers(point))
            if hits:
                located[(hits[0], slugs[row["Crime type"]])] += 1
            else:
                unlocated["outside_coverage"] += 1
    return located, unlocated


def east_sussex_area(shared_data: Path) -> tuple[set[str], set[str]]:
    """The wards of the districts that the packaged police-to-csp-analysts protocol gives east-sussex-csp as its
    area (its clause is scoped `of: recipient`), and their wards by the ONS ward -> district lookup."""
    protocol = yaml.safe_load((packaged_protocols_dir() / "police-to-csp-analysts.yaml").read_text(encoding="utf-8"))
    [area] = [r["area"] for r in protocol["recipients"] if r["id"] == "east-sussex-csp"]
    assert area["level"] == "district"
    districts = set(area.get("codes") or [area["code"]])
    with (shared_data / WARD_LAD_LOOKUP).open(encoding="utf-8-sig", newline="") as handle:
        return districts, {r["WD24CD"] for r in csv.DictReader(handle) if r["LAD24CD"] in districts}


def publish(hub_env: HubEnv, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deploy.cli", "publish", "police-uk-street", str(path)],
        env={**os.environ, **hub_env.env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def snapshot(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT * FROM event ORDER BY event_id")).all()]


@pytest.fixture(scope="module")
def loaded(hub_env: HubEnv, worker: Worker, shared_data: Path) -> list[tuple[object, ...]]:
    result = publish(hub_env, shared_data / SUSSEX_STREET)
    assert result.returncode == 0, result.stderr
    assert "11404 rows read, 11404 published" in result.stderr
    worker.wait_until_loaded()
    return snapshot(hub_env.engine)


def test_api_ward_category_counts_equal_independent_shapely_counts(
    loaded: list[tuple[object, ...]], shared_data: Path, hub_env: HubEnv
) -> None:
    located, unlocated = expected_counts(shared_data)
    client = hub_env.api_client("east-sussex-csp", "analyst")
    response = client.get(
        "/v1/counts",
        params={"dataset": "police-uk-street", "level": "ward", "from": "2019-01", "to": "2019-01", "by": "category"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    served = {(r["area_code"], r["category"]): r["count"] for r in body["rows"]}
    assert {r["period"] for r in body["rows"]} == {"2019-01"}
    # The clause is scoped to the recipient's area (East Sussex): the rest of Sussex and the events with no place
    # (outside every area) are not the caller's; every event of East Sussex is, counted exactly.
    districts, wards = east_sussex_area(shared_data)
    assert 0 < len(wards) < len({ward for ward, _ in located})
    inside = {key: n for key, n in located.items() if key[0] in wards}
    assert served == inside
    assert body["unlocated"] == []
    assert [(s["level"], set(s["codes"])) for s in body["disclosure"]["scope"]] == [("district", districts)]
    # The unlocated events are still in the warehouse, with their reasons (released under the unscoped public
    # clause; the events it releases at LSOA only, without their ward, are `location_not_released`).
    stored = hub_env.query(
        "SELECT location_status, count(*) FROM event WHERE dataset = 'police-uk-street' AND ward_code IS NULL "
        "AND location_status <> 'location_not_released' GROUP BY location_status"
    )
    assert Counter(dict(stored)) == unlocated
    assert sum(located.values()) + sum(unlocated.values()) == 11404


def test_every_row_is_in_the_warehouse_once(loaded: list[tuple[object, ...]]) -> None:
    assert len(loaded) == 11404


def test_publishing_the_same_file_again_leaves_the_warehouse_unchanged(
    loaded: list[tuple[object, ...]], hub_env: HubEnv, worker: Worker, shared_data: Path
) -> None:
    result = publish(hub_env, shared_data / SUSSEX_STREET)
    assert result.returncode == 0, result.stderr
    worker.wait_until_loaded()
    assert snapshot(hub_env.engine) == loaded
