"""Population denominators: `hub population load` against figures recomputed here from the same ONS CSVs."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

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
from warehouse.reference.population_estimates import PopulationLoad
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


MID2020_SOURCE = "ONS mid-2020 population estimates (2021 districts, via demographr), OGL v3"
CENSUS_SOURCE = "Census 2021 TS009 (via demographr), OGL v3"


@pytest.mark.parametrize(
    ("year", "file", "source"),
    [(2020, "mid2020", MID2020_SOURCE), (2021, "census", CENSUS_SOURCE)],
    ids=["2020", "2021"],
)
def test_eastbourne_district_is_the_published_figure(
    cli_output: str, files: dict[str, list[dict[str, str]]], hub_env: HubEnv, year: int, file: str, source: str
) -> None:
    published = _published(files[file], EASTBOURNE, "persons", "all ages")
    assert _stored(hub_env, "lad", EASTBOURNE, year, "persons", "all ages") == (published, source, "published")


@pytest.fixture(scope="module")
def latest(cli_output: str, hub_env: HubEnv) -> dict[str, Any]:
    """The latest all-ages denominators asked for Eastbourne and a code that is not a district."""
    with session_scope(hub_env.engine) as session:
        return dict(denominators(session, "lad", [EASTBOURNE, "E99999999"], "persons", "all ages"))


def test_an_unknown_code_gets_no_denominator(latest: dict[str, Any]) -> None:
    assert set(latest) == {EASTBOURNE}  # an unknown code gets no denominator, never a made-up one


def test_the_latest_year_wins(latest: dict[str, Any], files: dict[str, list[dict[str, str]]]) -> None:
    census = _published(files["census"], EASTBOURNE, "persons", "all ages")
    assert (latest[EASTBOURNE].population, latest[EASTBOURNE].year) == (census, 2021)  # the latest year wins


def test_a_denominator_names_its_source(latest: dict[str, Any]) -> None:
    assert latest[EASTBOURNE].source.startswith("Census 2021")


def test_a_band_only_one_year_has_comes_from_that_year(
    cli_output: str, files: dict[str, list[dict[str, str]]], hub_env: HubEnv
) -> None:
    with session_scope(hub_env.engine) as session:
        adults = denominators(session, "lad", [EASTBOURNE], "persons", "18+")
    # 18+ is only in the mid-2020 estimates, so that year is the latest there is.
    assert (adults[EASTBOURNE].population, adults[EASTBOURNE].year) == (
        _published(files["mid2020"], EASTBOURNE, "persons", "18+"),
        2020,
    )


@pytest.fixture(scope="module")
def wards_of(files: dict[str, list[dict[str, str]]]) -> dict[str, list[str]]:
    """Each district's wards, from the ward lookup (not the LSOA one)."""
    found: dict[str, list[str]] = defaultdict(list)
    for r in files["ward_lad"]:
        found[r["LAD24CD"]].append(r["WD24CD"])
    return found


@pytest.fixture(scope="module")
def broad_bands(files: dict[str, list[dict[str, str]]]) -> list[str]:
    return sorted({r["age_band"] for r in files["mid2020"] if r["band_type"] in ("all", "broad")})


def test_the_ward_lookup_has_the_districts_and_wards_expected(wards_of: dict[str, list[str]]) -> None:
    assert len(wards_of[EASTBOURNE]) == 9 and len(wards_of) == 34


def test_the_mid2020_file_has_all_ages_and_8_broad_bands(broad_bands: list[str]) -> None:
    assert len(broad_bands) == 9  # all ages and 8 broad bands


@pytest.fixture(scope="module")
def ward_figures(
    cli_output: str, hub_env: HubEnv, wards_of: dict[str, list[str]], broad_bands: list[str]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The ward denominators of every district in every broad band."""
    with session_scope(hub_env.engine) as session:
        return {
            (district, band): dict(denominators(session, "ward", wards, "persons", band))
            for district, wards in wards_of.items()
            for band in broad_bands
        }


def test_every_ward_has_a_figure_in_every_band(
    ward_figures: dict[tuple[str, str], dict[str, Any]], wards_of: dict[str, list[str]]
) -> None:
    for (district, band), found in ward_figures.items():
        assert set(found) == set(wards_of[district]), (district, band)


def test_ward_figures_are_those_of_mid2020(ward_figures: dict[tuple[str, str], dict[str, Any]]) -> None:
    for (district, band), found in ward_figures.items():
        assert {d.year for d in found.values()} == {2020}, (district, band)


def test_wards_add_up_to_their_district(
    ward_figures: dict[tuple[str, str], dict[str, Any]], files: dict[str, list[dict[str, str]]]
) -> None:
    """Exact in every district and band: a split 2011 LSOA's whole-person shares add up to its figure, and ONS's
    LSOA figures add up to the district's."""
    for (district, band), found in ward_figures.items():
        total = sum(d.population for d in found.values())
        assert total == _published(files["mid2020"], district, "persons", band), (district, band)


@dataclass(frozen=True)
class LookupSplit:
    """Every ward's exact fractional figure from an equal split of the 2011 LSOAs, the split-LSOA shares it holds,
    and the loaded figures."""

    expected: dict[str, Fraction]
    split_shares: dict[str, int]
    found: dict[str, Any]


@pytest.fixture(scope="module")
def lookup_split(cli_output: str, files: dict[str, list[dict[str, str]]], hub_env: HubEnv) -> LookupSplit:
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
    with session_scope(hub_env.engine) as session:
        found = dict(denominators(session, "ward", list(expected), "persons", "all ages"))
    return LookupSplit(expected, split_shares, found)


def test_split_lsoas_exercise_the_tolerance(lookup_split: LookupSplit) -> None:
    # Split LSOAs (Southampton, Wealden, ...): the tolerance is exercised.
    assert sum(lookup_split.split_shares.values()) > 100


def test_ward_figures_follow_the_lsoa_lookups(lookup_split: LookupSplit) -> None:
    """Every ward against an exact fractional equal split of the 2011 LSOAs (Eastbourne itself only has a merge).

    The loader splits in whole persons, so a ward may differ from the fractional figure by less than one person
    per split-LSOA share it holds; wards holding no such share must match exactly.
    """
    found, split_shares = lookup_split.found, lookup_split.split_shares
    for ward, value in lookup_split.expected.items():
        if split_shares[ward]:
            assert abs(Fraction(found[ward].population) - value) < split_shares[ward], ward
        else:
            assert found[ward].population == value, ward


def test_ward_figures_say_they_are_best_fit(lookup_split: LookupSplit) -> None:
    assert all("best-fit" in lookup_split.found[ward].method for ward in lookup_split.expected)


def _districts(files: dict[str, list[dict[str, str]]], column: str, code: str) -> set[str]:
    return {r["ltla24_code"] for r in files["lad_csp_pfa"] if r[column] == code}


@pytest.mark.parametrize(
    ("column", "code", "districts"),
    [("csp24_code", NORTH_HAMPSHIRE_CSP, 3), ("pfa24_code", SUSSEX_PFA, 13), ("pfa24_code", HAMPSHIRE_PFA, 14)],
    ids=["north-hampshire-csp", "sussex-pfa", "hampshire-pfa"],
)
def test_the_lookup_has_the_districts_expected(
    files: dict[str, list[dict[str, str]]], column: str, code: str, districts: int
) -> None:
    assert len(_districts(files, column, code)) == districts


@pytest.mark.parametrize(
    ("level", "column", "code", "year", "sex", "band", "file", "source"),
    [
        ("csp", "csp24_code", NORTH_HAMPSHIRE_CSP, 2021, "persons", "all ages", "census", CENSUS_SOURCE),
        ("csp", "csp24_code", NORTH_HAMPSHIRE_CSP, 2020, "persons", "18+", "mid2020", MID2020_SOURCE),
        ("pfa", "pfa24_code", SUSSEX_PFA, 2021, "female", "all ages", "census", CENSUS_SOURCE),
        ("pfa", "pfa24_code", HAMPSHIRE_PFA, 2020, "persons", "16-64", "mid2020", MID2020_SOURCE),
    ],
    ids=["csp-2021", "csp-2020-18+", "pfa-2021-female", "pfa-2020-16-64"],
)
def test_csp_and_force_are_sums_of_their_districts(
    cli_output: str,
    files: dict[str, list[dict[str, str]]],
    hub_env: HubEnv,
    level: str,
    column: str,
    code: str,
    year: int,
    sex: str,
    band: str,
    file: str,
    source: str,
) -> None:
    total = sum((_published(files[file], d, sex, band) for d in _districts(files, column, code)), Decimal(0))
    assert _stored(hub_env, level, code, year, sex, band) == (total, source, "sum of districts")


def test_a_force_missing_a_district_gets_no_total(cli_output: str, hub_env: HubEnv) -> None:
    # West Sussex has no mid-2020 figures here: Sussex gets no 2020 total rather than a short one.
    assert _stored(hub_env, "pfa", SUSSEX_PFA, 2020, "persons", "all ages") is None


def test_a_force_missing_a_district_is_reported(cli_output: str) -> None:
    assert f"no 2020 pfa figure for {SUSSEX_PFA}" in cli_output


@pytest.mark.parametrize("level", ["lad", "csp", "pfa"])
def test_female_denominators_exist_at_district_csp_and_force(cli_output: str, hub_env: HubEnv, level: str) -> None:
    with session_scope(hub_env.engine) as session:
        assert ("female", "16-64") in available_denominators(session, level)


def test_available_denominators_are_sorted(cli_output: str, hub_env: HubEnv) -> None:
    with session_scope(hub_env.engine) as session:
        assert available_denominators(session, "ward") == sorted(available_denominators(session, "ward"))


def test_wards_have_persons_denominators_only(cli_output: str, hub_env: HubEnv) -> None:
    with session_scope(hub_env.engine) as session:
        assert {sex for sex, _ in available_denominators(session, "ward")} == {"persons"}


def test_a_csp_female_denominator_is_from_the_census(cli_output: str, hub_env: HubEnv) -> None:
    with session_scope(hub_env.engine) as session:
        female = denominators(session, "csp", ["E22000295"], "female", "16-64")  # Eastbourne CSP
    assert female["E22000295"].year == 2021


@pytest.fixture(scope="module")
def eastbourne_wards(files: dict[str, list[dict[str, str]]]) -> list[str]:
    return [r["WD24CD"] for r in files["ward_lad"] if r["LAD24CD"] == EASTBOURNE]


def test_wards_get_no_female_denominator(cli_output: str, hub_env: HubEnv, eastbourne_wards: list[str]) -> None:
    with session_scope(hub_env.engine) as session:
        assert denominators(session, "ward", eastbourne_wards, "female", "16-64") == {}


def test_wards_get_a_persons_denominator_in_a_band(
    cli_output: str, hub_env: HubEnv, eastbourne_wards: list[str]
) -> None:
    with session_scope(hub_env.engine) as session:
        assert set(denominators(session, "ward", eastbourne_wards, "persons", "16-64")) == set(eastbourne_wards)


@pytest.fixture(scope="module")
def not_2024(files: dict[str, list[dict[str, str]]]) -> set[str]:
    """Census districts that 2024 lookups do not know (2023 reorganisations)."""
    known_2024 = {r["ltla24_code"] for r in files["lad_csp_pfa"]}
    return {r["area_code"] for r in files["census"]} - known_2024


@dataclass(frozen=True)
class Reloaded:
    """The population loaded a second time: its summary, and the rows per level in the warehouse after."""

    summary: PopulationLoad
    counts: dict[str, int]


@pytest.fixture(scope="module")
def reloaded(cli_output: str, hub_env: HubEnv, shared_data: Path) -> Reloaded:
    summary = load_population(shared_data, hub_env.database_url)
    with session_scope(hub_env.engine) as session:
        counts: dict[str, int] = dict(
            session.execute(text("SELECT level, count(*) FROM population GROUP BY level")).all()
        )
    return Reloaded(summary, counts)


def test_the_census_has_districts_the_2024_lookups_do_not_know(not_2024: set[str]) -> None:
    assert not_2024  # Cumbria, North Yorkshire and Somerset districts


def test_unplaced_districts_are_listed(reloaded: Reloaded, not_2024: set[str]) -> None:
    """Census districts that 2024 lookups do not know are listed, never dropped quietly."""
    assert {u.code for u in reloaded.summary.unplaced} == not_2024


def test_unplaced_districts_are_reported(cli_output: str, not_2024: set[str]) -> None:
    for code in not_2024:
        assert code in cli_output


def test_reload_replaces(reloaded: Reloaded) -> None:
    assert reloaded.counts == {level: rows for level, rows in reloaded.summary.rows.items() if rows}  # not doubled


@pytest.fixture(scope="module")
def vintages(reloaded: Reloaded, hub_env: HubEnv) -> tuple[dict[str, tuple[Any, ...]], dict[str, int]]:
    """The geography vintages recorded (level, source, areas), and the areas loaded per vintage."""
    with session_scope(hub_env.engine) as session:
        recorded = {
            r.vintage: (r.level, r.source, r.areas)
            for r in session.execute(text("SELECT vintage, level, source, areas FROM geography_vintage")).all()
        }
        areas: dict[str, int] = dict(session.execute(text("SELECT vintage, count(*) FROM area GROUP BY vintage")).all())
    return recorded, areas


def test_geography_vintage_records_a_loaded_vintage_with_its_source(
    vintages: tuple[dict[str, tuple[Any, ...]], dict[str, int]], shared_data: Path
) -> None:
    features = len(read_areas(shared_data / EASTBOURNE_LSOAS_2021, level="lsoa"))
    assert vintages[0]["lsoa-2021-eastbourne"] == ("lsoa", EASTBOURNE_LSOAS_2021, features)


def test_geography_vintage_records_the_areas_of_a_vintage(
    vintages: tuple[dict[str, tuple[Any, ...]], dict[str, int]],
) -> None:
    assert vintages[0]["wards-2024"][0::2] == ("ward", vintages[1]["wards-2024"])


def test_geography_vintage_records_each_loaded_vintage(
    vintages: tuple[dict[str, tuple[Any, ...]], dict[str, int]],
) -> None:
    assert set(vintages[0]) == set(vintages[1])
