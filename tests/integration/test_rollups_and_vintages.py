"""Counts roll up from wards to district, CSP, county and force, and stored points re-aggregate to other vintages."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import shape

from tests.support.hub import HubEnv, Worker
from tests.support.open_data import EASTBOURNE_STREET, LAD_CSP_PFA_LOOKUP, WARD_LAD_LOOKUP, WARDS_2013
from tests.support.reference_data import WARD_LOOKUPS, WARDS_2013_AREAS, load_reference

pytestmark = pytest.mark.integration

POINTS = """
id: sussex-points
version: 1
title: Points for a test
status: active
valid_from: 2019-01-01
review_due: 2030-01-01
dpia_reference: TEST
data_owners: [{id: sussex-police, name: Sussex Police, datasets: [police-uk-street]}]
recipients: [{id: csp-a, name: CSP A, kind: csp}]
purposes: [Testing]
legal_gateways: [{ref: cda-1998-s115}]
datasets: [police-uk-street]
retention: {months: 12}
signatories: [{role: SIRO, organisation: sussex-police}]
clauses:
  - {id: points, recipients: [csp-a], datasets: [police-uk-street], fields: [category, period, location],
     spatial_precision: point, temporal_precision: month, output: record_level,
     disclosure: {min_cell_count: 1, round_to: 1}}
"""
PARAMS = {"dataset": "police-uk-street", "from": "2019-01", "to": "2019-01"}


@pytest.fixture(scope="module")
def protocol_paths(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    directory = tmp_path_factory.mktemp("protocols")
    (directory / "points.yaml").write_text(POINTS)
    return [directory]


@pytest.fixture(scope="module")
def loaded(hub_env: HubEnv, shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Lookups and the 2013 wards loaded before the worker starts; the Eastbourne rows published and loaded."""
    load_reference(hub_env.database_url, areas=[WARDS_2013_AREAS], lookups=WARD_LOOKUPS, data=shared_data)
    worker = Worker(hub_env, tmp_path_factory.mktemp("worker") / "worker.log")
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "deploy.cli",
                "publish",
                "police-uk-street",
                str(shared_data / EASTBOURNE_STREET),
                "--partner",
                "sussex-police",
            ],
            env={**os.environ, **hub_env.env},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        worker.wait_until_loaded()
        yield
    finally:
        worker.stop()


def _counts(hub_env: HubEnv, level: str, **extra: str) -> dict[str, int]:
    body = hub_env.api_client("csp-a", "analyst").get("/v1/counts", params={**PARAMS, "level": level, **extra}).json()
    return {r["area_code"]: r["count"] for r in body["rows"]}


def _parents(shared_data: Path, path: str, child: str, parent: str) -> dict[str, str]:
    out: dict[str, str] = {}
    with (shared_data / path).open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            out[row[child]] = min(out.get(row[child], row[parent]), row[parent])  # several parents: the smallest
    return out


def test_counts_roll_up_from_wards_through_the_lookups(loaded: None, shared_data: Path, hub_env: HubEnv) -> None:
    wards = _counts(hub_env, "ward")
    ward_lad = _parents(shared_data, WARD_LAD_LOOKUP, "WD24CD", "LAD24CD")
    lad_county = _parents(shared_data, WARD_LAD_LOOKUP, "LAD24CD", "CTYUA24CD")
    lad_csp = _parents(shared_data, LAD_CSP_PFA_LOOKUP, "ltla24_code", "csp24_code")
    csp_pfa = _parents(shared_data, LAD_CSP_PFA_LOOKUP, "csp24_code", "pfa24_code")
    chains: dict[str, Callable[[str], str]] = {
        "lad": lambda w: ward_lad[w],
        "county": lambda w: lad_county[ward_lad[w]],
        "csp": lambda w: lad_csp[ward_lad[w]],
        "pfa": lambda w: csp_pfa[lad_csp[ward_lad[w]]],
    }
    for level, parent_of in chains.items():
        expected: Counter[str] = Counter()
        for ward, count in wards.items():
            expected[parent_of(ward)] += count
        assert _counts(hub_env, level) == dict(expected), level
    assert sum(wards.values()) > 800


def test_stored_points_re_aggregate_to_the_2013_wards(loaded: None, shared_data: Path, hub_env: HubEnv) -> None:
    features = json.loads((shared_data / WARDS_2013).read_text())["features"]
    wgs_to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)

    def project(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(wgs_to_bng.transform(xy[:, 0], xy[:, 1]))

    codes = [f["properties"]["WD13CD"] for f in features]
    polygons = [shapely.make_valid(shapely.transform(shape(f["geometry"]), project)) for f in features]
    expected: Counter[str] = Counter()
    with (shared_data / EASTBOURNE_STREET).open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if not row["Longitude"]:
                continue
            point = shapely.Point(*wgs_to_bng.transform(float(row["Longitude"]), float(row["Latitude"])))
            hits = sorted(code for code, polygon in zip(codes, polygons, strict=True) if polygon.covers(point))
            if hits:
                expected[hits[0]] += 1
    assert _counts(hub_env, "ward", vintage="wards-2013") == dict(expected)
    analyst = hub_env.api_client("csp-a", "analyst")
    refused = analyst.get("/v1/counts", params={**PARAMS, "level": "lad", "vintage": "wards-2013"})
    assert refused.status_code == 422
    missing = analyst.get("/v1/counts", params={**PARAMS, "vintage": "wards-1999"})
    assert missing.status_code == 404
