"""The choices the analyst's pages offer (web.caller_areas) on the real warehouse and the packaged protocols: the
CSPs an organisation serves, expected from the ONS district -> CSP lookup for the districts its protocols declare,
and the datasets its clauses grant."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from api.caller import Caller
from tests.support.hub import HubEnv
from tests.support.open_data import LAD_CSP_PFA_LOOKUP
from tests.support.reference_data import ALL_LOOKUPS, load_reference
from warehouse.schema.db import session_scope
from web.caller_areas import caller_csps, caller_datasets

pytestmark = pytest.mark.integration

EASTBOURNE = ["E07000061"]  # the district police-records-to-csp (and others) declare for eastbourne-csp
EAST_SUSSEX = ["E07000061", "E07000062", "E07000063", "E07000064", "E07000065"]  # east-sussex-csp's districts


def _csps_of(shared_data: Path, districts: list[str]) -> list[str]:
    with (shared_data / LAD_CSP_PFA_LOOKUP).open(encoding="utf-8") as handle:
        return sorted({r["csp24_code"] for r in csv.DictReader(handle) if r["ltla24_code"] in districts})


@pytest.fixture(scope="module")
def loaded(hub_env: HubEnv, shared_data: Path) -> HubEnv:
    load_reference(hub_env.database_url, lookups=ALL_LOOKUPS, data=shared_data)
    return hub_env


@pytest.mark.parametrize(("org", "districts"), [("eastbourne-csp", EASTBOURNE), ("east-sussex-csp", EAST_SUSSEX)])
def test_the_csps_offered_are_those_of_the_districts_the_protocols_declare(
    loaded: HubEnv, shared_data: Path, org: str, districts: list[str]
) -> None:
    with session_scope(loaded.engine) as session:
        found = caller_csps(session, loaded.geography, loaded.register, Caller(org, "analyst"))
    assert [c.value for c in found] == _csps_of(shared_data, districts) and all(c.value in c.label for c in found)


def test_an_organisation_no_protocol_gives_an_area_is_offered_no_csp(loaded: HubEnv) -> None:
    with session_scope(loaded.engine) as session:
        assert caller_csps(session, loaded.geography, loaded.register, Caller("sussex-police", "partner")) == []


def test_the_datasets_offered_are_those_the_clauses_grant(loaded: HubEnv) -> None:
    eastbourne = caller_datasets(loaded.register, Caller("eastbourne-csp", "analyst"))
    essex = caller_datasets(loaded.register, Caller("essex-csp", "analyst"))
    assert "police-records" in eastbourne and "police-records" not in essex  # police-records-to-csp: Sussex CSPs
    assert eastbourne == sorted(set(eastbourne))
