"""GET /v1/public/*: no key needed, keys ignored, only publishable datasets, never a count of 1-7."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from deploy.protocol_files import packaged_protocols_dir
from sharing_protocols.disclosure import Key
from tests.support.disclosure_attack import margin_attack
from tests.support.hub import HubEnv, Worker
from tests.support.open_data import EASTBOURNE_STREET
from tests.support.police_points import load_wards, publish, ward_months

pytestmark = pytest.mark.integration

# The public may also have the street counts by ward, under a rule of its own laxer than the NHS rule.
WARD_COUNTS = """
id: street-wards-public
version: 1
title: Street counts by ward for the public
status: active
valid_from: 2019-01-01
review_due: 2030-01-01
dpia_reference: TEST
data_owners: [{id: police-uk, name: police.uk, datasets: [police-uk-street]}]
recipients: [{id: public, name: The public, kind: public}]
purposes: [Testing]
legal_gateways: [{ref: ogl-v3}]
datasets: [police-uk-street]
retention: {months: 12}
signatories: [{role: SIRO, organisation: police-uk}]
clauses:
  - {id: ward-counts, recipients: [public], datasets: [police-uk-street], fields: [category, period, location],
     spatial_precision: ward, temporal_precision: month, output: aggregates_only,
     disclosure: {min_cell_count: 3, round_to: 1}}
"""
PARAMS = {"dataset": "police-uk-street", "from": "2019-01", "to": "2019-01"}


@pytest.fixture(scope="module")
def protocol_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("protocols")
    (directory / "street-wards-public.yaml").write_text(WARD_COUNTS)
    return directory


@pytest.fixture(scope="module")
def protocol_paths(protocol_dir: Path) -> list[Path]:
    return [packaged_protocols_dir(), protocol_dir]


@pytest.fixture(scope="module")
def loaded(hub_env: HubEnv, worker: Worker, shared_data: Path) -> Iterator[None]:
    assert "907 rows read, 907 published" in publish(hub_env.env, "police-uk-street", shared_data / EASTBOURNE_STREET)
    worker.wait_until_loaded()
    yield


@pytest.fixture(scope="module")
def true_counts(shared_data: Path) -> dict[str, Counter[str]]:
    """The exact counts per LSOA (the file's own codes) and per ward (from the coordinates)."""
    with (shared_data / EASTBOURNE_STREET).open(encoding="utf-8", newline="") as handle:
        lsoas = Counter(row["LSOA code"] for row in csv.DictReader(handle) if row["LSOA code"])
    wards = Counter(
        {w: n for (w, _), n in ward_months(load_wards(shared_data), shared_data / EASTBOURNE_STREET).items()}
    )
    return {"lsoa": lsoas, "ward": wards}


def _public(hub_env: HubEnv, level: str, client: TestClient | None = None, **extra: str) -> Any:
    response = (client or hub_env.client()).get("/v1/public/counts", params={**PARAMS, "level": level, **extra})
    assert response.status_code == 200, response.text
    return response


def _figures(body: dict[str, Any]) -> list[int | None]:
    totals = body["totals"]
    return [
        *(r["count"] for r in body["rows"]),
        *(u["count"] for u in body["unlocated"]),
        *totals["area"].values(),
        *totals["period"].values(),
        totals["overall"],
    ]


@pytest.mark.parametrize(
    ("level", "clause"),
    [("lsoa", "police-uk-public@1#public-lsoa-monthly-counts"), ("ward", "street-wards-public@1#ward-counts")],
)
def test_without_a_key_counts_are_released_under_at_least_the_nhs_rule(
    loaded: None, true_counts: dict[str, Counter[str]], level: str, clause: str, hub_env: HubEnv
) -> None:
    body = _public(hub_env, level).json()
    rule = body["disclosure"]
    # Both public clauses set a laxer rule of their own: the NHS rule is stricter, and the response says so.
    assert (rule["source"], rule["min_cell_count"], rule["round_to"], rule["clauses"]) == ("combined", 8, 5, [clause])
    assert "NHS rule" in rule["rule"]
    assert body["protocols"] == [clause]
    assert not [n for n in _figures(body) if n is not None and 1 <= n <= 7]
    true = true_counts[level]
    served = {r["area_code"]: r["count"] for r in body["rows"]}
    assert set(served) == set(true)
    for area, n in served.items():
        if n is None:
            continue
        assert n % 5 == 0 and abs(n - true[area]) <= 2, area
    assert all(served[a] is None for a, n in true.items() if n < 8)  # every small count is suppressed
    assert any(n is None for n in served.values()) and any(n for n in served.values())
    cells: dict[Key, int | None] = {(r["area_code"], r["period"]): r["count"] for r in body["rows"]}
    margins = [body["totals"]["area"], body["totals"]["period"]]
    assert not margin_attack(cells, margins, body["totals"]["overall"], 8, 5).anything


def test_a_key_is_ignored(loaded: None, hub_env: HubEnv) -> None:
    for level in ("lsoa", "ward"):
        anonymous = _public(hub_env, level).json()
        analyst = _public(hub_env, level, hub_env.api_client("east-sussex-csp", "analyst")).json()
        invalid = _public(hub_env, level, hub_env.client(headers={"Authorization": "Bearer not-a-key"})).json()
        assert analyst == anonymous == invalid
    # The same key on /v1/counts gets the CSP's own exact counts: different figures.
    own = hub_env.api_client("east-sussex-csp", "analyst").get("/v1/counts", params={**PARAMS, "level": "ward"}).json()
    public = _public(hub_env, "ward").json()
    assert own["disclosure"]["round_to"] == 1
    assert {r["area_code"]: r["count"] for r in own["rows"]} != {r["area_code"]: r["count"] for r in public["rows"]}


def expected_publishable(directories: list[Path]) -> set[tuple[str, str]]:
    """(dataset, level) pairs a clause in force grants the public by month at ward or LSOA, from the YAML files."""
    today = datetime.now(UTC).date()
    found: set[tuple[str, str]] = set()
    for directory in directories:
        for path in directory.glob("*.yaml"):
            doc = yaml.safe_load(path.read_text())
            if doc["status"] != "active" or not doc["valid_from"] <= today <= doc["review_due"]:
                continue
            if doc.get("expires") is not None and today > doc["expires"]:
                continue
            for clause in doc["clauses"]:
                if "public" not in clause["recipients"] or not {"location", "period"} <= set(clause["fields"]):
                    continue
                levels = {"point": ("ward", "lsoa"), "ward": ("ward",), "lsoa": ("lsoa",)}
                for level in levels.get(clause["spatial_precision"], ()):
                    found.update((dataset, level) for dataset in clause["datasets"])
    return found


def test_only_publishable_datasets_are_listed_and_served(loaded: None, protocol_dir: Path, hub_env: HubEnv) -> None:
    client = hub_env.client()
    listed = client.get("/v1/public/datasets")
    assert listed.status_code == 200
    entries = listed.json()
    assert {(e["dataset"], e["level"]) for e in entries} == expected_publishable(
        [packaged_protocols_dir(), protocol_dir]
    )
    assert all(e["period"] == "month" for e in entries)
    assert all(e["disclosure"]["min_cell_count"] >= 8 and e["disclosure"]["round_to"] >= 5 for e in entries)
    # Datasets the public is not granted are refused, with or without a key.
    for dataset in ("police-records", "council-asb", "marac-cases"):
        params = {**PARAMS, "dataset": dataset, "level": "ward"}
        assert client.get("/v1/public/counts", params=params).status_code == 403, dataset
        keyed = hub_env.api_client("east-sussex-csp", "analyst").get("/v1/public/counts", params=params)
        assert keyed.status_code == 403, dataset


def test_months_and_ward_or_lsoa_only(loaded: None, hub_env: HubEnv) -> None:
    client = hub_env.client()
    for extra in ({"level": "lad"}, {"level": "csp"}, {"level": "ward", "period": "quarter"}):
        assert client.get("/v1/public/counts", params={**PARAMS, **extra}).status_code == 422, extra
    assert (
        client.get("/v1/public/counts", params={**PARAMS, "level": "lsoa", "period": "rolling_12"}).status_code == 422
    )


def test_csv_and_geojson(loaded: None, hub_env: HubEnv) -> None:
    table = _public(hub_env, "lsoa", format="csv")
    assert table.headers["content-type"].startswith("text/csv") and "NHS rule" in table.headers["x-disclosure-rule"]
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert rows and not [r for r in rows if r["count"] and 1 <= int(r["count"]) <= 7]
    assert {r["area_code"]: r["count"] for r in rows} == {
        r["area_code"]: "" if r["count"] is None else str(r["count"]) for r in _public(hub_env, "lsoa").json()["rows"]
    }
    geo = _public(hub_env, "ward", format="geojson")
    assert geo.headers["content-type"].startswith("application/geo+json")
    features = geo.json()["features"]
    assert features and all(f["geometry"] is not None for f in features)
    assert not [f for f in features if f["properties"]["count"] is not None and 1 <= f["properties"]["count"] <= 7]
