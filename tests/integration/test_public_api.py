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
from httpx import Response

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


CLAUSES = {"lsoa": "police-uk-public@1#public-lsoa-monthly-counts", "ward": "street-wards-public@1#ward-counts"}


@pytest.fixture(scope="module", params=["lsoa", "ward"])
def level(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture(scope="module")
def anonymous(loaded: None, hub_env: HubEnv, level: str) -> dict[str, Any]:
    """The public counts at `level`, asked without a key."""
    body: dict[str, Any] = _public(hub_env, level).json()
    return body


def _served(body: dict[str, Any]) -> dict[str, int | None]:
    return {r["area_code"]: r["count"] for r in body["rows"]}


def test_without_a_key_counts_are_released_under_at_least_the_nhs_rule(anonymous: dict[str, Any], level: str) -> None:
    rule = anonymous["disclosure"]
    # Both public clauses set a laxer rule of their own: the NHS rule is stricter, and the response says so.
    assert (rule["source"], rule["min_cell_count"], rule["round_to"], rule["clauses"]) == (
        "combined",
        8,
        5,
        [CLAUSES[level]],
    )


def test_without_a_key_the_rule_is_named_the_nhs_rule(anonymous: dict[str, Any]) -> None:
    assert "NHS rule" in anonymous["disclosure"]["rule"]


def test_without_a_key_counts_cite_the_public_clause(anonymous: dict[str, Any], level: str) -> None:
    assert anonymous["protocols"] == [CLAUSES[level]]


def test_without_a_key_no_figure_of_1_to_7(anonymous: dict[str, Any]) -> None:
    assert not [n for n in _figures(anonymous) if n is not None and 1 <= n <= 7]


def test_without_a_key_every_area_is_listed(
    anonymous: dict[str, Any], true_counts: dict[str, Counter[str]], level: str
) -> None:
    assert set(_served(anonymous)) == set(true_counts[level])


def test_without_a_key_shown_counts_are_rounded_to_5_and_near_the_truth(
    anonymous: dict[str, Any], true_counts: dict[str, Counter[str]], level: str
) -> None:
    true = true_counts[level]
    for area, n in _served(anonymous).items():
        if n is None:
            continue
        assert n % 5 == 0 and abs(n - true[area]) <= 2, area


def test_without_a_key_every_small_count_is_suppressed(
    anonymous: dict[str, Any], true_counts: dict[str, Counter[str]], level: str
) -> None:
    served = _served(anonymous)
    assert all(served[a] is None for a, n in true_counts[level].items() if n < 8)


def test_without_a_key_some_counts_are_suppressed_and_some_shown(anonymous: dict[str, Any]) -> None:
    served = _served(anonymous)
    assert any(n is None for n in served.values()) and any(n for n in served.values())


def test_without_a_key_the_margin_attack_recovers_nothing(anonymous: dict[str, Any]) -> None:
    cells: dict[Key, int | None] = {(r["area_code"], r["period"]): r["count"] for r in anonymous["rows"]}
    margins = [anonymous["totals"]["area"], anonymous["totals"]["period"]]
    assert not margin_attack(cells, margins, anonymous["totals"]["overall"], 8, 5).anything


def test_a_key_is_ignored(anonymous: dict[str, Any], hub_env: HubEnv, level: str) -> None:
    analyst = _public(hub_env, level, hub_env.api_client("east-sussex-csp", "analyst")).json()
    invalid = _public(hub_env, level, hub_env.client(headers={"Authorization": "Bearer not-a-key"})).json()
    assert analyst == anonymous == invalid


@pytest.fixture(scope="module")
def own_ward_counts(loaded: None, hub_env: HubEnv) -> dict[str, Any]:
    """The same key on /v1/counts: the CSP's own counts by ward."""
    client = hub_env.api_client("east-sussex-csp", "analyst")
    body: dict[str, Any] = client.get("/v1/counts", params={**PARAMS, "level": "ward"}).json()
    return body


def test_a_key_on_the_counts_gets_the_csps_exact_counts(own_ward_counts: dict[str, Any]) -> None:
    assert own_ward_counts["disclosure"]["round_to"] == 1


def test_a_key_on_the_counts_gets_figures_other_than_the_publics(
    own_ward_counts: dict[str, Any], hub_env: HubEnv
) -> None:
    public = _public(hub_env, "ward").json()
    assert _served(own_ward_counts) != _served(public)


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


@pytest.fixture(scope="module")
def listed(loaded: None, hub_env: HubEnv) -> Response:
    response: Response = hub_env.client().get("/v1/public/datasets")
    return response


def test_the_public_datasets_are_listed(listed: Response) -> None:
    assert listed.status_code == 200


def test_only_publishable_datasets_are_listed(listed: Response, protocol_dir: Path) -> None:
    assert {(e["dataset"], e["level"]) for e in listed.json()} == expected_publishable(
        [packaged_protocols_dir(), protocol_dir]
    )


def test_the_public_datasets_are_monthly(listed: Response) -> None:
    assert all(e["period"] == "month" for e in listed.json())


def test_the_public_datasets_are_under_at_least_the_nhs_rule(listed: Response) -> None:
    entries = listed.json()
    assert all(e["disclosure"]["min_cell_count"] >= 8 and e["disclosure"]["round_to"] >= 5 for e in entries)


UNPUBLISHED = pytest.mark.parametrize("dataset", ["police-records", "council-asb", "marac-cases"])


@UNPUBLISHED
def test_datasets_the_public_is_not_granted_are_refused_without_a_key(
    loaded: None, hub_env: HubEnv, dataset: str
) -> None:
    params = {**PARAMS, "dataset": dataset, "level": "ward"}
    assert hub_env.client().get("/v1/public/counts", params=params).status_code == 403, dataset


@UNPUBLISHED
def test_datasets_the_public_is_not_granted_are_refused_with_a_key(loaded: None, hub_env: HubEnv, dataset: str) -> None:
    params = {**PARAMS, "dataset": dataset, "level": "ward"}
    keyed = hub_env.api_client("east-sussex-csp", "analyst").get("/v1/public/counts", params=params)
    assert keyed.status_code == 403, dataset


@pytest.mark.parametrize(
    "extra",
    [
        {"level": "lad"},
        {"level": "csp"},
        {"level": "ward", "period": "quarter"},
        {"level": "lsoa", "period": "rolling_12"},
    ],
    ids=["lad", "csp", "quarter", "rolling_12"],
)
def test_months_and_ward_or_lsoa_only(loaded: None, hub_env: HubEnv, extra: dict[str, str]) -> None:
    assert hub_env.client().get("/v1/public/counts", params={**PARAMS, **extra}).status_code == 422, extra


@pytest.fixture(scope="module")
def lsoa_csv(loaded: None, hub_env: HubEnv) -> Any:
    return _public(hub_env, "lsoa", format="csv")


@pytest.fixture(scope="module")
def ward_geojson(loaded: None, hub_env: HubEnv) -> Any:
    return _public(hub_env, "ward", format="geojson")


def test_csv_is_served_as_csv_naming_the_nhs_rule(lsoa_csv: Any) -> None:
    assert (
        lsoa_csv.headers["content-type"].startswith("text/csv") and "NHS rule" in lsoa_csv.headers["x-disclosure-rule"]
    )


def test_csv_has_no_count_of_1_to_7(lsoa_csv: Any) -> None:
    rows = list(csv.DictReader(io.StringIO(lsoa_csv.text)))
    assert rows and not [r for r in rows if r["count"] and 1 <= int(r["count"]) <= 7]


def test_csv_carries_the_json_counts(lsoa_csv: Any, hub_env: HubEnv) -> None:
    rows = list(csv.DictReader(io.StringIO(lsoa_csv.text)))
    assert {r["area_code"]: r["count"] for r in rows} == {
        r["area_code"]: "" if r["count"] is None else str(r["count"]) for r in _public(hub_env, "lsoa").json()["rows"]
    }


def test_geojson_is_served_as_geojson(ward_geojson: Any) -> None:
    assert ward_geojson.headers["content-type"].startswith("application/geo+json")


def test_geojson_features_have_geometry(ward_geojson: Any) -> None:
    features = ward_geojson.json()["features"]
    assert features and all(f["geometry"] is not None for f in features)


def test_geojson_has_no_count_of_1_to_7(ward_geojson: Any) -> None:
    features = ward_geojson.json()["features"]
    assert not [f for f in features if f["properties"]["count"] is not None and 1 <= f["properties"]["count"] <= 7]


def test_without_a_key_v1_counts_answers_as_the_public_endpoint(
    anonymous: dict[str, Any], hub_env: HubEnv, level: str
) -> None:
    # The same public data gets the same rule on every public route: no exact cells of 1-7 on /v1/counts.
    response = hub_env.client().get("/v1/counts", params={**PARAMS, "level": level})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["disclosure"], body["rows"], body["totals"]) == (
        anonymous["disclosure"],
        anonymous["rows"],
        anonymous["totals"],
    )
