"""Population denominators: `hub population load` against figures recomputed here from the same ONS CSVs."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.support.hub import HubEnv
from tests.support.open_data import (
    CENSUS_2021_SEX,
    EASTBOURNE_LSOAS_2021,
    LAD_CSP_PFA_LOOKUP,
    LAD_MID2020_AGEBANDS,
    LSOA11_LSOA21_LOOKUP,
    LSOA11_MID2020_AGEBANDS,
    LSOA_WARD_LOOKUP,
    WARD_LAD_LOOKUP,
)
from tests.support.reference_data import Boundaries, load_reference
from warehouse.queries.population import available_denominators, denominators
from warehouse.reference.boundaries import read_areas
from warehouse.reference.population import load_population
from warehouse.schema.db import session_scope

pytestmark = pytest.mark.integration

EASTBOURNE = "E07000061"
NORTH_HAMPSHIRE_CSP = "E22000374"  # Basingstoke and Deane, Hart and Rushmoor
SUSSEX_PFA = "E23000033"  # East and West Sussex, Brighton and Hove: no mid-2020 figures for West Sussex here
HAMPSHIRE_PFA = "E23000030"


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def files(shared_data: Path) -> dict[str, list[dict[str, str]]]:
    """The source CSVs, read here independently of warehouse.reference.population."""
    names = {
        "mid2020": LAD_MID2020_AGEBANDS,
        "census": CENSUS_2021_SEX,
        "lsoa11": LSOA11_MID2020_AGEBANDS,
        "lsoa11_21": LSOA11_LSOA21_LOOKUP,
        "lsoa21_ward": LSOA_WARD_LOOKUP,
        "lad_csp_pfa": LAD_CSP_PFA_LOOKUP,
        "ward_lad": WARD_LAD_LOOKUP,
    }
    return {key: _csv(shared_data / name) for key, name in names.items()}


@pytest.fixture(scope="module")
def cli_output(hub_env: HubEnv, shared_data: Path) -> Iterator[str]:
    """`hub population load` run for real on this module's database; Eastbourne's 2021 LSOAs loaded with a source."""
    eastbourne_lsoas = Boundaries(EASTBOURNE_LSOAS_2021, "lsoa-2021-eastbourne", "lsoa", source=EASTBOURNE_LSOAS_2021)
    load_reference(hub_env.database_url, areas=[eastbourne_lsoas], data=shared_data)
    result = subprocess.run(
        [sys.executable, "-m", "deploy.cli", "population", "load", "--data", str(shared_data)],
        env={**os.environ, **hub_env.env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    yield result.stdout


def _stored(hub_env: HubEnv, level: str, code: str, year: int, sex: str, band: str) -> tuple[Decimal, str, str] | None:
    with session_scope(hub_env.engine) as session:
        row = session.execute(
            text(
                "SELECT population, source, method FROM population WHERE level = :level AND area_code = :code "
                "AND year = :year AND sex = :sex AND age_band = :band"
            ),
            {"level": level, "code": code, "year": year, "sex": sex, "band": band},
        ).one_or_none()
    return None if row is None else (row.population, row.source, row.method)


def _published(rows: list[dict[str, str]], code: str, sex: str, band: str) -> Decimal:
    (value,) = [r["population"] for r in rows if (r["area_code"], r["sex"], r["age_band"]) == (code, sex, band)]
    return Decimal(value)


def test_eastbourne_district_is_the_published_figure(
    cli_output: str, files: dict[str, list[dict[str, str]]], hub_env: HubEnv
) -> None:
    mid2020 = _published(files["mid2020"], EASTBOURNE, "persons", "all ages")
    census = _published(files["census"], EASTBOURNE, "persons", "all ages")
    assert _stored(hub_env, "lad", EASTBOURNE, 2020, "persons", "all ages") == (
        mid2020,
        "ONS mid-2020 population estimates (2021 districts, via demographr), OGL v3",
        "published",
    )
    assert _stored(hub_env, "lad", EASTBOURNE, 2021, "persons", "all ages") == (
        census,
        "Census 2021 TS009 (via demographr), OGL v3",
        "published",
    )
    with session_scope(hub_env.engine) as session:
        latest = denominators(session, "lad", [EASTBOURNE, "E99999999"], "persons", "all ages")
        adults = denominators(session, "lad", [EASTBOURNE], "persons", "18+")
    assert set(latest) == {EASTBOURNE}  # an unknown code gets no denominator, never a made-up one
    assert (latest[EASTBOURNE].population, latest[EASTBOURNE].year) == (census, 2021)  # the latest year wins
    assert latest[EASTBOURNE].source.startswith("Census 2021")
    # 18+ is only in the mid-2020 estimates, so that year is the latest there is.
    assert (adults[EASTBOURNE].population, adults[EASTBOURNE].year) == (
        _published(files["mid2020"], EASTBOURNE, "persons", "18+"),
        2020,
    )


def test_wards_add_up_to_their_district(
    cli_output: str, files: dict[str, list[dict[str, str]]], hub_env: HubEnv
) -> None:
    """Wards from the ward lookup (not the LSOA one). Exact in every district and band: a split 2011 LSOA's
    whole-person shares add up to its figure, and ONS's LSOA figures add up to the district's."""
    wards_of: dict[str, list[str]] = defaultdict(list)
    for r in files["ward_lad"]:
        wards_of[r["LAD24CD"]].append(r["WD24CD"])
    assert len(wards_of[EASTBOURNE]) == 9 and len(wards_of) == 34
    broad = sorted({r["age_band"] for r in files["mid2020"] if r["band_type"] in ("all", "broad")})
    assert len(broad) == 9  # all ages and 8 broad bands
    with session_scope(hub_env.engine) as session:
        for district, wards in wards_of.items():
            for band in broad:
                found = denominators(session, "ward", wards, "persons", band)
                assert set(found) == set(wards), (district, band)
                assert {d.year for d in found.values()} == {2020}
                total = sum(d.population for d in found.values())
                assert total == _published(files["mid2020"], district, "persons", band), (district, band)


def test_ward_figures_follow_the_lsoa_lookups(
    cli_output: str, files: dict[str, list[dict[str, str]]], hub_env: HubEnv
) -> None:
    """Every ward against an exact fractional equal split of the 2011 LSOAs (Eastbourne itself only has a merge).

    The loader splits in whole persons, so a ward may differ from the fractional figure by less than one person
    per split-LSOA share it holds; wards holding no such share must match exactly.
    """
    targets: dict[str, list[str]] = defaultdict(list)
    for r in files["lsoa11_21"]:
        targets[r["lsoa11_code"]].append(r["lsoa21_code"])
    ward_of = {r["lsoa21_code"]: r["ward24_code"] for r in files["lsoa21_ward"]}
    expected: dict[str, Fraction] = defaultdict(Fraction)
    split_shares: dict[str, int] = defaultdict(int)
    for r in files["lsoa11"]:
        if r["age_band"] != "all ages":
            continue
        pieces = targets[r["area_code"]]
        for lsoa21 in pieces:
            expected[ward_of[lsoa21]] += Fraction(int(r["population"]), len(pieces))
            split_shares[ward_of[lsoa21]] += len(pieces) > 1
    assert sum(split_shares.values()) > 100  # split LSOAs (Southampton, Wealden, ...): the tolerance is exercised
    with session_scope(hub_env.engine) as session:
        found = denominators(session, "ward", list(expected), "persons", "all ages")
    for ward, value in expected.items():
        if split_shares[ward]:
            assert abs(Fraction(found[ward].population) - value) < split_shares[ward], ward
        else:
            assert found[ward].population == value, ward
        assert "best-fit" in found[ward].method


def test_csp_and_force_are_sums_of_their_districts(
    cli_output: str, files: dict[str, list[dict[str, str]]], hub_env: HubEnv
) -> None:
    csp_districts = {r["ltla24_code"] for r in files["lad_csp_pfa"] if r["csp24_code"] == NORTH_HAMPSHIRE_CSP}
    sussex = {r["ltla24_code"] for r in files["lad_csp_pfa"] if r["pfa24_code"] == SUSSEX_PFA}
    hampshire = {r["ltla24_code"] for r in files["lad_csp_pfa"] if r["pfa24_code"] == HAMPSHIRE_PFA}
    assert len(csp_districts) == 3 and len(sussex) == 13 and len(hampshire) == 14

    def total(rows: list[dict[str, str]], codes: set[str], sex: str, band: str) -> Decimal:
        return sum((_published(rows, code, sex, band) for code in codes), Decimal(0))

    census = "Census 2021 TS009 (via demographr), OGL v3"
    assert _stored(hub_env, "csp", NORTH_HAMPSHIRE_CSP, 2021, "persons", "all ages") == (
        total(files["census"], csp_districts, "persons", "all ages"),
        census,
        "sum of districts",
    )
    assert _stored(hub_env, "csp", NORTH_HAMPSHIRE_CSP, 2020, "persons", "18+") == (
        total(files["mid2020"], csp_districts, "persons", "18+"),
        "ONS mid-2020 population estimates (2021 districts, via demographr), OGL v3",
        "sum of districts",
    )
    assert _stored(hub_env, "pfa", SUSSEX_PFA, 2021, "female", "all ages") == (
        total(files["census"], sussex, "female", "all ages"),
        census,
        "sum of districts",
    )
    assert _stored(hub_env, "pfa", HAMPSHIRE_PFA, 2020, "persons", "16-64") == (
        total(files["mid2020"], hampshire, "persons", "16-64"),
        "ONS mid-2020 population estimates (2021 districts, via demographr), OGL v3",
        "sum of districts",
    )
    # West Sussex has no mid-2020 figures here: Sussex gets no 2020 total rather than a short one, and says so.
    assert _stored(hub_env, "pfa", SUSSEX_PFA, 2020, "persons", "all ages") is None
    assert f"no 2020 pfa figure for {SUSSEX_PFA}" in cli_output


def test_female_denominators_exist_at_district_and_csp_not_ward(
    cli_output: str, files: dict[str, list[dict[str, str]]], hub_env: HubEnv
) -> None:
    wards = [r["WD24CD"] for r in files["ward_lad"] if r["LAD24CD"] == EASTBOURNE]
    with session_scope(hub_env.engine) as session:
        assert ("female", "16-64") in available_denominators(session, "lad")
        assert ("female", "16-64") in available_denominators(session, "csp")
        assert ("female", "16-64") in available_denominators(session, "pfa")
        assert available_denominators(session, "ward") == sorted(available_denominators(session, "ward"))
        assert {sex for sex, _ in available_denominators(session, "ward")} == {"persons"}
        female = denominators(session, "csp", ["E22000295"], "female", "16-64")  # Eastbourne CSP
        assert female["E22000295"].year == 2021
        assert denominators(session, "ward", wards, "female", "16-64") == {}
        assert set(denominators(session, "ward", wards, "persons", "16-64")) == set(wards)


def test_unplaced_districts_are_reported_and_reload_replaces(
    cli_output: str, hub_env: HubEnv, shared_data: Path, files: dict[str, list[dict[str, str]]]
) -> None:
    """Census districts that 2024 lookups do not know (2023 reorganisations) are listed, never dropped quietly."""
    known_2024 = {r["ltla24_code"] for r in files["lad_csp_pfa"]}
    not_2024 = {r["area_code"] for r in files["census"]} - known_2024
    assert not_2024  # Cumbria, North Yorkshire and Somerset districts
    summary = load_population(shared_data, hub_env.database_url)
    assert {u.code for u in summary.unplaced} == not_2024
    for code in not_2024:
        assert code in cli_output
    with session_scope(hub_env.engine) as session:
        counts: dict[str, int] = dict(
            session.execute(text("SELECT level, count(*) FROM population GROUP BY level")).all()
        )
    assert counts == {level: rows for level, rows in summary.rows.items() if rows}  # replaced, not doubled


def test_geography_vintage_records_each_loaded_vintage(cli_output: str, shared_data: Path, hub_env: HubEnv) -> None:
    with session_scope(hub_env.engine) as session:
        vintages = {
            r.vintage: (r.level, r.source, r.areas)
            for r in session.execute(text("SELECT vintage, level, source, areas FROM geography_vintage")).all()
        }
        areas: dict[str, int] = dict(session.execute(text("SELECT vintage, count(*) FROM area GROUP BY vintage")).all())
    features = len(read_areas(shared_data / EASTBOURNE_LSOAS_2021, level="lsoa"))
    assert vintages["lsoa-2021-eastbourne"] == ("lsoa", EASTBOURNE_LSOAS_2021, features)
    assert vintages["wards-2024"][0::2] == ("ward", areas["wards-2024"])
    assert set(vintages) == set(areas)
