"""GET /v1/hotspots on the Sussex police.uk file: Gi* checked against the textbook formula computed here."""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from tests.support.hub import HubEnv, Worker
from tests.support.open_data import SUSSEX_STREET
from tests.support.police_points import Wards, csps, load_wards, publish, to_wgs84, ward_months
from tests.support.protocol_files import with_packaged
from tests.support.reference_data import WARD_LOOKUPS, load_reference

pytestmark = pytest.mark.integration

WEALDEN_CSP = "E22000301"
SUSSEX_PFA = "E23000033"
BRIGHTON_AND_HOVE = "E06000043"
EAST_SUSSEX_LADS = {BRIGHTON_AND_HOVE, "E07000061", "E07000062", "E07000063", "E07000064", "E07000065"}
# CSP N gets the street records at ward level under no rule of its own: the NHS rule (1-7 suppressed, round to 5).
NHS_RULE = """
id: street-to-csp-n
version: 1
title: Street records without a disclosure rule of their own
status: active
valid_from: 2019-01-01
review_due: 2030-01-01
dpia_reference: TEST
data_owners: [{id: police-uk, name: police.uk, datasets: [police-uk-street]}]
recipients: [{id: csp-n, name: CSP N, kind: csp}]
purposes: [Testing]
legal_gateways: [{ref: cda-1998-s115}]
datasets: [police-uk-street]
retention: {months: 12}
signatories: [{role: SIRO, organisation: police-uk}]
clauses:
  - {id: wards, recipients: [csp-n], datasets: [police-uk-street], fields: [category, period, location],
     spatial_precision: ward, temporal_precision: month, output: record_level}
"""
PARAMS = {"dataset": "police-uk-street", "from": "2019-01", "to": "2019-01"}


@pytest.fixture(scope="module")
def protocol_paths(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return with_packaged(tmp_path_factory, {"street-to-csp-n.yaml": NHS_RULE})


@pytest.fixture(scope="module")
def wards(shared_data: Path) -> Wards:
    return load_wards(shared_data)


@pytest.fixture(scope="module")
def loaded(hub_env: HubEnv, shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The lookups (for CSP codes) loaded before the worker starts, then the Sussex file published and loaded."""
    load_reference(hub_env.database_url, lookups=WARD_LOOKUPS, data=shared_data)
    worker = Worker(hub_env, tmp_path_factory.mktemp("worker") / "worker.log")
    try:
        assert "11404 rows read, 11404 published" in publish(
            hub_env.env, "police-uk-street", shared_data / SUSSEX_STREET
        )
        worker.wait_until_loaded()
        yield
    finally:
        worker.stop()


def queen(polygons: Sequence[BaseGeometry]) -> list[set[int]]:
    """Neighbours sharing at least one boundary point, found with shapely."""
    return [
        {j for j, other in enumerate(polygons) if j != i and polygon.intersects(other)}
        for i, polygon in enumerate(polygons)
    ]


def gi_star(counts: Sequence[float], neighbours: Sequence[set[int]]) -> list[float | None]:
    """Getis-Ord Gi* z-scores, textbook form, binary weights with each area its own neighbour; None if undefined.

    Gi* = (sum_j w_ij x_j - mean * W_i) / (s * sqrt((n * W_i - W_i^2) / (n - 1))), s^2 = mean(x^2) - mean^2.
    """
    x = np.asarray(counts, dtype=float)
    n = len(x)
    mean = x.mean()
    s = math.sqrt((x**2).mean() - mean**2)
    out: list[float | None] = []
    for i in range(n):
        w = np.zeros(n)
        w[sorted(neighbours[i] | {i})] = 1.0
        weight = w.sum()
        spread = s * math.sqrt((n * (w**2).sum() - weight**2) / (n - 1))
        out.append(None if not neighbours[i] or spread == 0 else float((w @ x - mean * weight) / spread))
    return out


def two_sided_p(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2))


def _hotspots(hub_env: HubEnv, org: str, **params: str) -> dict[str, Any]:
    response = hub_env.api_client(org, "analyst").get("/v1/hotspots", params={**PARAMS, **params})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/geo+json")
    body: dict[str, Any] = response.json()
    assert body["type"] == "FeatureCollection"
    return body


def _check_against_textbook(body: dict[str, Any], polygons: dict[str, BaseGeometry], used: dict[str, int]) -> None:
    codes = sorted(polygons)
    expected = gi_star([used[c] for c in codes], queen([polygons[c] for c in codes]))
    served = {f["properties"]["code"]: f["properties"] for f in body["features"]}
    assert sorted(served) == codes
    for code, z in zip(codes, expected, strict=True):
        props = served[code]
        assert props["gi_count"] == used[code]
        if z is None:
            assert props["z_score"] is None and props["classification"] == "not significant"
            continue
        assert props["z_score"] == pytest.approx(z, abs=1e-6), code
        p = two_sided_p(z)
        assert props["p_value"] == pytest.approx(p, abs=1e-9)
        level = next((label for cut, label in ((0.01, "99%"), (0.05, "95%"), (0.10, "90%")) if p < cut), None)
        want = "not significant" if level is None else f"{'hot' if z > 0 else 'cold'} {level}"
        assert props["classification"] == want, code


def test_ward_gi_star_of_a_csp_equals_the_textbook_formula_on_exact_counts(
    loaded: None, wards: Wards, shared_data: Path, hub_env: HubEnv
) -> None:
    in_csp = {code for code, lad in wards.lads.items() if csps(shared_data)[lad] == WEALDEN_CSP}
    counts = Counter(
        {ward: n for (ward, _), n in ward_months(wards, shared_data / SUSSEX_STREET).items() if ward in in_csp}
    )
    body = _hotspots(hub_env, "east-sussex-csp", area=WEALDEN_CSP, area_level="csp")
    assert body["disclosure"]["min_cell_count"] == 1 and body["disclosure"]["round_to"] == 1  # exact counts
    served = {f["properties"]["code"]: f["properties"] for f in body["features"]}
    assert sorted(served) == sorted(in_csp)  # every ward of the CSP, zero-count ones included
    assert {c: p["count"] for c, p in served.items()} == {c: counts[c] for c in in_csp}
    assert {c: p["name"] for c, p in served.items()} == {c: wards.names[c] for c in in_csp}
    _check_against_textbook(body, {c: wards.polygons[c] for c in in_csp}, {c: counts[c] for c in in_csp})
    assert any(p["classification"].startswith("hot") for p in served.values())  # a hot spot in the test data
    assert "Queen" in body["method"]["weights"] and "own neighbour" in body["method"]["weights"]
    for f in body["features"]:  # WGS84 lon/lat, the ward itself
        assert f["id"] == f["properties"]["code"]
        west, south, east, north = shape(f["geometry"]).bounds
        assert -1 < west < east < 1 and 50 < south < north < 52
        assert to_wgs84(wards.polygons[f["id"]]).representative_point().within(shape(f["geometry"]).buffer(1e-5))


def test_gi_star_is_computed_on_released_counts_under_the_nhs_rule(
    loaded: None, wards: Wards, shared_data: Path, hub_env: HubEnv
) -> None:
    in_csp = {code for code, lad in wards.lads.items() if csps(shared_data)[lad] == WEALDEN_CSP}
    body = _hotspots(hub_env, "csp-n", area=WEALDEN_CSP, area_level="csp", category="violent-crime")
    rule = body["disclosure"]
    assert (rule["source"], rule["min_cell_count"], rule["round_to"]) == ("default", 8, 5)
    released = {f["properties"]["code"]: f["properties"]["count"] for f in body["features"]}
    assert not [n for n in released.values() if n is not None and 1 <= n <= 7]
    assert any(n is None for n in released.values()) and any(n for n in released.values())
    stand_in = rule["min_cell_count"] // 2  # the midpoint of 1..7, as the response says
    assert f"taken as {stand_in}" in body["method"]["counts"]
    used = {c: stand_in if n is None else n for c, n in released.items()}
    _check_against_textbook(body, {c: wards.polygons[c] for c in in_csp}, used)
    # The true counts would give other z-scores (those would leak the suppressed counts): not what is served.
    true = _category_counts(wards, shared_data, "Violence and sexual offences", in_csp)
    codes = sorted(in_csp)
    neighbours = queen([wards.polygons[c] for c in codes])
    on_true = gi_star([true[c] for c in codes], neighbours)
    for code, n in released.items():  # rounded to 5 or suppressed
        assert (n is None and true[code] > 0) or (n is not None and n % 5 == 0 and abs(n - true[code]) <= 2)
    served_z = {f["properties"]["code"]: f["properties"]["z_score"] for f in body["features"]}
    assert any(z is not None and abs(z - (served_z[c] or 0.0)) > 1e-3 for c, z in zip(codes, on_true, strict=True))
    # The released counts are those of GET /v1/counts for the same query (one table, one disclosure control).
    counts = hub_env.api_client("csp-n", "analyst").get(
        "/v1/counts",
        params={**PARAMS, "area": WEALDEN_CSP, "area_level": "csp", "category": "violent-crime", "period": "all"},
    )
    assert counts.status_code == 200, counts.text
    assert {r["area_code"]: r["count"] for r in counts.json()["rows"]} == {c: n for c, n in released.items() if n != 0}


def _category_counts(wards: Wards, shared_data: Path, category: str, within: set[str]) -> Counter[str]:
    """Rows of one police.uk crime type per ward, from the file."""
    found: Counter[str] = Counter()
    with (shared_data / SUSSEX_STREET).open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Crime type"] == category and row["Longitude"]:
                ward = wards.ward_of(float(row["Longitude"]), float(row["Latitude"]))
                if ward in within:
                    found[ward] += 1
    return found


def test_district_gi_star_within_a_force_area(loaded: None, wards: Wards, shared_data: Path, hub_env: HubEnv) -> None:
    by_ward = ward_months(wards, shared_data / SUSSEX_STREET)
    counts: Counter[str] = Counter()
    for (ward, _), n in by_ward.items():
        counts[wards.lads[ward]] += n
    # The force's districts with wards loaded, for a caller without a geographic scope (CSP N)...
    unscoped = _hotspots(hub_env, "csp-n", level="lad", area=SUSSEX_PFA, area_level="pfa")
    assert {f["properties"]["code"] for f in unscoped["features"]} == EAST_SUSSEX_LADS
    # ... but East Sussex CSP's clause is scoped to its own area, the five East Sussex districts (the packaged
    # police-to-csp-analysts protocol): Brighton and Hove is absent from its study region, not a zero in it.
    inside = EAST_SUSSEX_LADS - {BRIGHTON_AND_HOVE}
    body = _hotspots(hub_env, "east-sussex-csp", level="lad", area=SUSSEX_PFA, area_level="pfa")
    served = {f["properties"]["code"]: f["properties"] for f in body["features"]}
    assert set(served) == inside
    assert {c: p["count"] for c, p in served.items()} == {c: counts[c] for c in inside}
    polygons = {lad: unary_union([p for w, p in wards.polygons.items() if wards.lads[w] == lad]) for lad in inside}
    _check_against_textbook(body, polygons, {c: counts[c] for c in inside})


def test_bad_requests(loaded: None, wards: Wards, hub_env: HubEnv) -> None:
    client = hub_env.api_client("east-sussex-csp", "analyst")
    one_ward = sorted(w for w, lad in wards.lads.items() if lad == "E07000061")[0]
    few = client.get("/v1/hotspots", params={**PARAMS, "area": one_ward, "area_level": "ward"})
    assert few.status_code == 422 and "at least 3 areas" in few.json()["detail"]
    assert (
        client.get(
            "/v1/hotspots", params={**PARAMS, "area": WEALDEN_CSP, "area_level": "csp", "level": "lsoa"}
        ).status_code
        == 422
    )
    assert client.get("/v1/hotspots", params=PARAMS).status_code == 422  # no study region
    # The public has the street records at LSOA precision only: not by ward.
    public = hub_env.client().get("/v1/hotspots", params={**PARAMS, "area": WEALDEN_CSP, "area_level": "csp"})
    assert public.status_code == 403


def test_the_release_record_keeps_each_area_count_and_the_total_shown(loaded: None, hub_env: HubEnv) -> None:
    body = _hotspots(hub_env, "csp-n", area=WEALDEN_CSP, area_level="csp", category="violent-crime")
    [(access,)] = hub_env.query("SELECT max(id) FROM access_log WHERE endpoint = '/v1/hotspots' AND org = 'csp-n'")
    recorded = hub_env.query(
        "SELECT dataset, areas, categories, value FROM release_record WHERE access_id = :a ORDER BY figure_id", a=access
    )
    shown = {f["properties"]["code"]: f["properties"]["count"] for f in body["features"]}
    expected = [(frozenset({code}), count) for code, count in shown.items()] + [(frozenset(shown), body["total"])]
    assert Counter((frozenset(areas), value) for _, areas, _, value in recorded) == Counter(expected)
    assert {(dataset, tuple(categories)) for dataset, _, categories, _ in recorded} == {
        ("police-uk-street", ("violent-crime",))
    }


def test_hotspots_csv_has_the_features_figures_with_suppressed_ones_empty(loaded: None, hub_env: HubEnv) -> None:
    """format=csv: one record per area with the period and exactly the GeoJSON features' properties; a suppressed
    count is an empty field; the rule is in X-Disclosure-Rule."""
    query = {**PARAMS, "area": WEALDEN_CSP, "area_level": "csp", "category": "violent-crime"}
    body = _hotspots(hub_env, "csp-n", **query)
    answer = hub_env.api_client("csp-n", "analyst").get("/v1/hotspots", params={**query, "format": "csv"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["X-Disclosure-Rule"] == body["disclosure"]["rule"]
    records = list(csv.DictReader(answer.text.splitlines()))

    def text(value: Any) -> str:
        return "" if value is None else str(value)

    expected = [
        {"period": body["period"], **{k: text(v) for k, v in f["properties"].items()}} for f in body["features"]
    ]
    assert records == expected
    assert any(r["count"] == "" for r in records)  # the NHS rule suppressed some: empty, not 0
    assert (
        hub_env.api_client("csp-n", "analyst").get("/v1/hotspots", params={**query, "format": "xml"}).status_code == 422
    )
