"""Geographic scope: under the packaged protocols (every CSP clause scoped `of: recipient`), Eastbourne CSP's analyst
sees no Essex or Hampshire area, and Essex CSP's none of Sussex's, whatever level or endpoint they ask at.

The three forces' January 2019 police.uk street files are published; the areas each force covers and each CSP's
own areas are read here from the ONS lookup files in the shared data (ward -> district -> CSP and police force
area), never from the hub.
"""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.hub import HubEnv, Worker, run_all
from tests.support.open_data import (
    ESSEX_STREET,
    HAMPSHIRE_STREET,
    LAD_CSP_PFA_LOOKUP,
    SUSSEX_STREET,
    WARD_LAD_LOOKUP,
)
from tests.support.reference_data import ALL_LOOKUPS, load_reference

pytestmark = pytest.mark.integration

STREET = {"dataset": "police-uk-street", "from": "2019-01", "to": "2019-01"}
EASTBOURNE_CSP = "Eastbourne"  # csp24_name in the lookup
FORCES = ("Sussex", "Essex", "Hampshire")  # pfa24_name in the lookup
CSP_CLAUSE = "police-to-csp-analysts@1#csp-ward-records"
ESSEX_COUNTY = "Essex"  # CTYUA24NM of the county council's districts (the essex-csp recipient is the county's CSP)


@dataclass(frozen=True)
class Areas:
    """Area codes at each level (ward, lad, csp, county, pfa), as a set per level."""

    ward: frozenset[str]
    lad: frozenset[str]
    csp: frozenset[str]
    county: frozenset[str]
    pfa: frozenset[str]

    def at(self, level: str) -> frozenset[str]:
        found: frozenset[str] = getattr(self, level)
        return found


def _rows(shared_data: Path, name: str) -> list[dict[str, str]]:
    with (shared_data / name).open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _areas(shared_data: Path, keep_lad: Any) -> Areas:
    """Every area holding (or lying in) the districts for which keep_lad(district row, ward rows) is true."""
    lads = {r["ltla24_code"]: r for r in _rows(shared_data, LAD_CSP_PFA_LOOKUP)}
    wards = _rows(shared_data, WARD_LAD_LOOKUP)
    chosen = {code for code, row in lads.items() if keep_lad(row, [w for w in wards if w["LAD24CD"] == code])}
    assert chosen, "the lookup names no such district"
    in_wards = [w for w in wards if w["LAD24CD"] in chosen]
    return Areas(
        ward=frozenset(w["WD24CD"] for w in in_wards),
        lad=frozenset(chosen),
        csp=frozenset(lads[c]["csp24_code"] for c in chosen),
        county=frozenset(w["CTYUA24CD"] for w in in_wards),
        pfa=frozenset(lads[c]["pfa24_code"] for c in chosen),
    )


@pytest.fixture(scope="module")
def force(shared_data: Path) -> dict[str, Areas]:
    """Each force's areas, from the lookups."""
    return {name: _areas(shared_data, lambda lad, _w, name=name: lad["pfa24_name"] == name) for name in FORCES}


@pytest.fixture(scope="module")
def eastbourne(shared_data: Path) -> Areas:
    return _areas(shared_data, lambda lad, _w: lad["csp24_name"] == EASTBOURNE_CSP)


@pytest.fixture(scope="module")
def essex_county(shared_data: Path) -> Areas:
    return _areas(shared_data, lambda _lad, wards: bool(wards) and wards[0]["CTYUA24NM"] == ESSEX_COUNTY)


@pytest.fixture(scope="module")
def loaded(hub_env: HubEnv, shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    load_reference(hub_env.database_url, lookups=ALL_LOOKUPS, population=True, data=shared_data)
    worker = Worker(hub_env, tmp_path_factory.mktemp("scope") / "worker.log")  # after the lookups: read at start
    env = {**os.environ, **hub_env.env}
    cli = [sys.executable, "-m", "deploy.cli", "publish", "police-uk-street"]
    run_all([[*cli, str(shared_data / name)] for name in (SUSSEX_STREET, ESSEX_STREET, HAMPSHIRE_STREET)], env)
    worker.wait_until_loaded(timeout=600)
    yield worker
    worker.stop()


def _codes(client: TestClient, level: str) -> set[str]:
    response = client.get("/v1/counts", params={**STREET, "level": level})
    assert response.status_code == 200, f"{level}: {response.text[:300]}"
    body = response.json()
    assert body["disclosure"]["scope"], f"{level}: the answer does not say it is limited to the caller's area"
    return {row["area_code"] for row in body["rows"]}


def test_the_events_of_all_three_forces_are_in_the_warehouse(
    loaded: Worker, hub_env: HubEnv, force: dict[str, Areas], shared_data: Path
) -> None:
    """Otherwise the absence below would prove nothing; and at release, the scoped CSP clause justifies only events
    inside some recipient's area (Eastbourne, East Sussex county, Essex county), whatever other clauses (the public
    one) release the rest."""
    districts = {
        r[0] for r in hub_env.query("SELECT DISTINCT district_code FROM event WHERE dataset = 'police-uk-street'")
    }
    for name, areas in force.items():
        assert districts & areas.lad, f"no {name} event was loaded"
    counties = {"East Sussex", ESSEX_COUNTY}
    recipients = _areas(shared_data, lambda _lad, wards: bool(wards) and wards[0]["CTYUA24NM"] in counties).lad
    under_clause = hub_env.query(
        "SELECT district_code, count(*) FROM event WHERE dataset = 'police-uk-street' "
        "AND CAST(:ref AS text) = ANY(protocols) GROUP BY district_code",
        ref=CSP_CLAUSE,
    )
    assert under_clause, "no event was released under the CSP clause"
    outside = {code: n for code, n in under_clause if code not in recipients}
    assert outside == {}, f"released under {CSP_CLAUSE} outside every recipient's area: {outside}"


@pytest.mark.parametrize("level", ["ward", "lad", "csp", "county", "pfa"])
def test_eastbourne_sees_only_its_own_area(
    loaded: Worker, hub_env: HubEnv, level: str, force: dict[str, Areas], eastbourne: Areas
) -> None:
    codes = _codes(hub_env.api_client("eastbourne-csp", "analyst"), level)
    assert codes, f"Eastbourne CSP's analyst got no {level} at all"
    assert not codes & force["Essex"].at(level), f"Essex {level}s: {sorted(codes & force['Essex'].at(level))[:5]}"
    hampshire = codes & force["Hampshire"].at(level)
    assert not hampshire, f"Hampshire {level}s: {sorted(hampshire)[:5]}"
    assert codes <= eastbourne.at(level), f"outside Eastbourne CSP: {sorted(codes - eastbourne.at(level))[:5]}"


@pytest.mark.parametrize("level", ["ward", "lad", "csp", "county", "pfa"])
def test_essex_sees_none_of_sussex(
    loaded: Worker, hub_env: HubEnv, level: str, force: dict[str, Areas], essex_county: Areas
) -> None:
    codes = _codes(hub_env.api_client("essex-csp", "analyst"), level)
    assert codes, f"Essex CSP's analyst got no {level} at all"
    assert not codes & force["Sussex"].at(level), f"Sussex {level}s: {sorted(codes & force['Sussex'].at(level))[:5]}"
    hampshire = codes & force["Hampshire"].at(level)
    assert not hampshire, f"Hampshire {level}s: {sorted(hampshire)[:5]}"
    assert codes <= essex_county.at(level), f"outside Essex county: {sorted(codes - essex_county.at(level))[:5]}"


def test_coarse_totals_count_only_events_inside_the_scope(loaded: Worker, hub_env: HubEnv, eastbourne: Areas) -> None:
    """A force total for Eastbourne's analyst is Eastbourne's events, not Sussex's."""
    client = hub_env.api_client("eastbourne-csp", "analyst")
    [(inside,)] = hub_env.query(
        "SELECT count(*) FROM event WHERE dataset = 'police-uk-street' AND district_code = ANY(:lads)",
        lads=sorted(eastbourne.lad),
    )
    [(sussex,)] = hub_env.query("SELECT count(*) FROM event WHERE dataset = 'police-uk-street'")
    assert 0 < inside < sussex
    body = client.get("/v1/counts", params={**STREET, "level": "pfa"}).json()
    assert [row["count"] for row in body["rows"]] == [inside]


@pytest.mark.parametrize(
    ("org", "other"), [("eastbourne-csp", ("Essex", "Hampshire")), ("essex-csp", ("Sussex", "Hampshire"))]
)
def test_ogc_features_and_rates_stay_inside_the_scope(
    loaded: Worker, hub_env: HubEnv, org: str, other: tuple[str, ...], force: dict[str, Areas]
) -> None:
    client = hub_env.api_client(org, "analyst")
    collections = client.get("/collections")
    assert collections.status_code == 200
    ids = [c["id"] for c in collections.json()["collections"] if c["id"].startswith("police-uk-street-")]
    assert ids, f"{org} has no police-uk-street collection"
    for collection in ids:
        level = "ward" if "-ward-" in collection else "lad"
        response = client.get(f"/collections/{collection}/items", params={"limit": 10000})
        assert response.status_code == 200, f"{collection}: {response.text[:300]}"
        codes = {feature["properties"]["area_code"] for feature in response.json()["features"]}
        assert codes, f"{org} {collection}: no feature"
        for name in other:
            assert not codes & force[name].at(level), f"{org} {collection} shows {name} areas"
    rates = client.get("/v1/rates", params={**STREET, "level": "lad", "period": "month"})
    assert rates.status_code == 200, rates.text[:300]
    codes = {row["area_code"] for row in rates.json()["rows"]}
    assert codes
    for name in other:
        assert not codes & force[name].lad, f"{org} rates show {name} districts"
