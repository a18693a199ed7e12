"""Population estimates from the ONS files: parsed, apportioned to small areas and summed to parents (pure, no
database).

What is loaded (from the shared open data, OGL v3):

- lad: the published district figures as they are (method "published"), keyed by the district codes the files
  carry (2021 codes): ONS mid-2020 estimates for the 34 districts in scope (persons, every age band) and Census
  2021 for all districts of England and Wales (persons, female and male; all ages and 16-64).
- lsoa (2021 codes) and ward (May 2024 codes): derived from the mid-2020 small-area estimates on 2011 LSOAs,
  persons, all ages and the broad bands. An unchanged 2011 LSOA keeps its figure; LSOAs merged in 2021 are
  summed; a 2011 LSOA split in 2021 is divided equally among its 2021 LSOAs in whole persons (the remainder one
  each to the lowest codes, so every level still adds up exactly). Wards are sums of their best-fit 2021 LSOAs.
- csp, county, pfa: sums of their 2024 districts, for every year, sex and age band published for districts. A
  parent gets a figure only when every one of its districts has one and lies wholly in it; the others (a
  district shared by several legacy CSPs, a force with a district that has no estimate) are listed as omitted,
  and districts no lookup places in a 2024 district are listed as unplaced. Nothing is estimated to fill gaps.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

LEVELS = ("lsoa", "ward", "lad", "csp", "county", "pfa")
PARENT_LEVELS = ("csp", "county", "pfa")

LAD_MID2020 = "population/lad21_mid2020_persons_agebands.csv"
LAD_CENSUS2021 = "population/lad21_census2021_sex_england_wales.csv"
LSOA11_MID2020 = "population/lsoa11_mid2020_persons_agebands.csv"
LSOA11_LSOA21 = "lookups/lsoa11_lsoa21_lad22.csv"
LSOA21_WARD24 = "lookups/lsoa21_ward24_lad24.csv"
LAD24_CSP_PFA = "lookups/lad24_csp24_pfa24_england_wales.csv"
WARD24_LAD_COUNTY = "lookups/ward24_lad24_ctyua24.csv"

MID2020_SOURCE = "ONS mid-2020 population estimates (2021 districts, via demographr), OGL v3"
SAPE2020_SOURCE = "ONS mid-2020 small area population estimates (SAPE23DT2, 2011 LSOAs, via demographr), OGL v3"
LICENCE = "OGL v3"

PUBLISHED = "published"
SUM_OF_DISTRICTS = "sum of districts"
LSOA_UNCHANGED = "2011 LSOA estimate; the LSOA is unchanged in 2021"
LSOA_MERGED = "sum of the 2011 LSOA estimates merged into this 2021 LSOA"
LSOA_SPLIT = (
    "2011 LSOA estimates mapped to 2021 LSOAs: a 2011 LSOA split in 2021 divided equally among its 2021 LSOAs "
    "(whole persons, the remainder one each to the lowest codes), merged ones summed"
)
WARD_BEST_FIT = (
    "sum of the 2021 LSOAs best-fit to the ward (2011 LSOA estimates mapped to 2021 LSOAs: splits divided "
    "equally in whole persons, merges summed)"
)
SMALL_AREA_BANDS = ("all", "broad")  # band_type values loaded for LSOAs and wards (not the 5-year bands)


class PopulationFileError(ValueError):
    """A population or lookup file that cannot be read; the message names the file, row and field."""


@dataclass(frozen=True)
class Estimate:
    """One population figure ready to load."""

    level: str
    area_code: str
    year: int
    sex: str
    age_band: str
    population: int
    source: str
    method: str


@dataclass(frozen=True)
class Unplaced:
    """An area whose population could not be placed in the level above (never silently dropped)."""

    level: str
    code: str
    year: int
    reason: str


@dataclass(frozen=True)
class Omitted:
    """A parent area left without a figure for a year, and why."""

    level: str
    code: str
    year: int
    reason: str


@dataclass
class PopulationLoad:
    """What a load did: rows per level, and what could not be placed or summed."""

    rows: dict[str, int] = field(default_factory=dict)
    unplaced: list[Unplaced] = field(default_factory=list)
    omitted: list[Omitted] = field(default_factory=list)


def _rows(path: Path, required: Sequence[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, row) of a CSV whose header must hold `required`."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [name for name in required if name not in (reader.fieldnames or [])]
            if missing:
                raise PopulationFileError(f"{path}: no column {', '.join(missing)} (header: {reader.fieldnames})")
            for number, row in enumerate(reader, start=2):
                for name in required:
                    if not (row.get(name) or "").strip():
                        raise PopulationFileError(f"{path}, row {number}, field {name!r}: empty")
                yield number, {k: (v or "").strip() for k, v in row.items() if k is not None}
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise PopulationFileError(f"{path}: cannot read ({exc})") from exc


def _whole(path: Path, number: int, name: str, value: str) -> int:
    """A count of people, which must be a whole number (e.g. "1460" or "1460.0")."""
    try:
        amount = Decimal(value)
    except ArithmeticError:
        raise PopulationFileError(f"{path}, row {number}, field {name!r}: not a number ({value!r})") from None
    if amount != amount.to_integral_value() or amount < 0:
        raise PopulationFileError(f"{path}, row {number}, field {name!r}: not a whole count ({value!r})")
    return int(amount)


def _read_lad(path: Path, extra: tuple[str, ...], source: Callable[[dict[str, str]], str]) -> list[Estimate]:
    """Published district figures: a row a figure, with the `extra` columns and each row's `source`."""
    columns = ("area_code", "year", "sex", "age_band", *extra, "population")
    return [
        Estimate(
            "lad",
            row["area_code"],
            _whole(path, number, "year", row["year"]),
            row["sex"],
            row["age_band"],
            _whole(path, number, "population", row["population"]),
            source(row),
            PUBLISHED,
        )
        for number, row in _rows(path, columns)
    ]


def read_lad_mid2020(path: Path) -> list[Estimate]:
    """The published mid-2020 district estimates (persons, every age band)."""
    return _read_lad(path, (), lambda _row: MID2020_SOURCE)


def read_lad_census2021(path: Path) -> list[Estimate]:
    """The published Census 2021 district figures (persons, female, male; all ages and 16-64)."""
    return _read_lad(path, ("source",), lambda row: f"{row['source']}, {LICENCE}")


def _shares(total: int, codes: Sequence[str]) -> dict[str, int]:
    """`total` divided equally among `codes` in whole numbers, the remainder one each to the lowest codes."""
    ordered = sorted(codes)
    base, remainder = divmod(total, len(ordered))
    return {code: base + (1 if index < remainder else 0) for index, code in enumerate(ordered)}


def small_area_estimates(data: Path) -> tuple[list[Estimate], list[Unplaced]]:
    """2021-LSOA and 2024-ward estimates derived from the mid-2020 2011-LSOA estimates (see the module doc)."""
    lsoa21_of: dict[str, set[str]] = defaultdict(set)
    lsoa11_of: dict[str, set[str]] = defaultdict(set)
    lookup = data / LSOA11_LSOA21
    for _, row in _rows(lookup, ("lsoa11_code", "lsoa21_code")):
        lsoa21_of[row["lsoa11_code"]].add(row["lsoa21_code"])
        lsoa11_of[row["lsoa21_code"]].add(row["lsoa11_code"])
    ward_of: dict[str, str] = {}
    wards = data / LSOA21_WARD24
    for number, row in _rows(wards, ("lsoa21_code", "ward24_code")):
        if ward_of.setdefault(row["lsoa21_code"], row["ward24_code"]) != row["ward24_code"]:
            raise PopulationFileError(f"{wards}, row {number}: LSOA {row['lsoa21_code']} has two best-fit wards")

    path = data / LSOA11_MID2020
    columns = ("area_code", "year", "sex", "age_band", "band_type", "population")
    lsoa: dict[tuple[str, int, str, str], int] = defaultdict(int)
    unplaced: dict[tuple[str, int], Unplaced] = {}
    for number, row in _rows(path, columns):
        if row["band_type"] not in SMALL_AREA_BANDS:
            continue
        code, year = row["area_code"], _whole(path, number, "year", row["year"])
        targets = lsoa21_of.get(code)
        if not targets:
            reason = f"no 2021 LSOA for this 2011 LSOA in {LSOA11_LSOA21}"
            unplaced[code, year] = Unplaced("lsoa", code, year, reason)
            continue
        total = _whole(path, number, "population", row["population"])
        for target, share in _shares(total, sorted(targets)).items():
            lsoa[target, year, row["sex"], row["age_band"]] += share

    def lsoa_method(code: str) -> str:
        sources = lsoa11_of[code]
        if any(len(lsoa21_of[source]) > 1 for source in sources):
            return LSOA_SPLIT
        return LSOA_MERGED if len(sources) > 1 else LSOA_UNCHANGED

    estimates = [
        Estimate("lsoa", code, year, sex, band, value, SAPE2020_SOURCE, lsoa_method(code))
        for (code, year, sex, band), value in sorted(lsoa.items())
    ]
    ward: dict[tuple[str, int, str, str], int] = defaultdict(int)
    for (code, year, sex, band), value in lsoa.items():
        if code not in ward_of:
            reason = f"no best-fit 2024 ward for this 2021 LSOA in {LSOA21_WARD24}"
            unplaced[code, year] = Unplaced("lsoa", code, year, reason)
            continue
        ward[ward_of[code], year, sex, band] += value
    estimates.extend(
        Estimate("ward", code, year, sex, band, value, SAPE2020_SOURCE, WARD_BEST_FIT)
        for (code, year, sex, band), value in sorted(ward.items())
    )
    return estimates, sorted(unplaced.values(), key=lambda u: (u.year, u.code))


@dataclass(frozen=True)
class DistrictLookups:
    """2024 districts: the parents of each at each level, and the 2024 district each older code lies in."""

    parents: dict[str, dict[str, set[str]]]  # level -> district (2024) -> parent codes
    successor: dict[str, set[str]]  # district code (any vintage the LSOA lookups name) -> 2024 districts

    def district_2024(self, code: str) -> tuple[str | None, str]:
        """The 2024 district a published district code stands for, or None and why not."""
        if any(code in by_district for by_district in self.parents.values()):
            return code, "a 2024 district code"
        targets = self.successor.get(code, set())
        if len(targets) == 1:
            return next(iter(targets)), "lies wholly in a 2024 district (by its LSOAs)"
        if targets:
            return None, f"its LSOAs lie in several 2024 districts ({', '.join(sorted(targets))})"
        return None, "not a 2024 district code in the lookups, and no lookup maps it to one"

    def predecessors(self, code: str) -> set[str]:
        """The older district codes with LSOAs in 2024 district `code`."""
        return {old for old, targets in self.successor.items() if code in targets and old != code}


def read_district_lookups(data: Path) -> DistrictLookups:
    """District -> CSP and PFA, district -> county (CTYUA), and older district codes -> 2024 districts."""
    parents: dict[str, dict[str, set[str]]] = {level: defaultdict(set) for level in PARENT_LEVELS}
    for _, row in _rows(data / LAD24_CSP_PFA, ("ltla24_code", "csp24_code", "pfa24_code")):
        parents["csp"][row["ltla24_code"]].add(row["csp24_code"])
        parents["pfa"][row["ltla24_code"]].add(row["pfa24_code"])
    for _, row in _rows(data / WARD24_LAD_COUNTY, ("LAD24CD", "CTYUA24CD")):
        parents["county"][row["LAD24CD"]].add(row["CTYUA24CD"])
    lad24_of: dict[str, str] = {}
    for _, row in _rows(data / LSOA21_WARD24, ("lsoa21_code", "ltla24_code")):
        lad24_of[row["lsoa21_code"]] = row["ltla24_code"]
    successor: dict[str, set[str]] = defaultdict(set)
    for _, row in _rows(data / LSOA11_LSOA21, ("lsoa21_code", "ltla22_code")):
        if row["lsoa21_code"] in lad24_of:
            successor[row["ltla22_code"]].add(lad24_of[row["lsoa21_code"]])
    return DistrictLookups({k: dict(v) for k, v in parents.items()}, dict(successor))


def parent_estimates(
    districts: Iterable[Estimate], lookups: DistrictLookups
) -> tuple[list[Estimate], list[Unplaced], list[Omitted]]:
    """CSP, county and PFA figures as sums of their districts, with what could not be placed or summed."""
    by_key: dict[tuple[int, str, str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    via: dict[tuple[int, str, str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    unplaced: dict[tuple[str, int], Unplaced] = {}
    for estimate in districts:
        code, why = lookups.district_2024(estimate.area_code)
        if code is None:
            unplaced[estimate.area_code, estimate.year] = Unplaced("lad", estimate.area_code, estimate.year, why)
            continue
        key = (estimate.year, estimate.sex, estimate.age_band, estimate.source)
        by_key[key][code] += estimate.population
        if code != estimate.area_code:
            via[key][code].add(estimate.area_code)
    for key, merged in via.items():  # a 2024 district made of older ones counts only when all of them have figures
        for code, found in merged.items():
            missing = sorted(lookups.predecessors(code) - found)
            if missing:
                del by_key[key][code]
                reason = f"part of 2024 district {code}, whose other parts {', '.join(missing)} have no figure"
                for old in sorted(found):
                    unplaced[old, key[0]] = Unplaced("lad", old, key[0], reason)

    estimates: list[Estimate] = []
    omitted: dict[tuple[str, str, int], Omitted] = {}
    for level in PARENT_LEVELS:
        members: dict[str, set[str]] = defaultdict(set)
        for district, codes in lookups.parents[level].items():
            for code in codes:
                members[code].add(district)
        shared = {d: codes for d, codes in lookups.parents[level].items() if len(codes) > 1}
        for (year, sex, band, source), values in sorted(by_key.items()):
            for parent in sorted({p for d in values for p in lookups.parents[level].get(d, ())}):
                split = sorted(d for d in members[parent] if d in shared)
                missing = sorted(members[parent] - values.keys())
                if split:
                    reason = f"district {', '.join(split)} is shared with other {level} areas"
                elif missing:
                    reason = f"no {year} estimate for district {', '.join(missing)}"
                else:
                    total = sum(values[d] for d in members[parent])
                    estimates.append(Estimate(level, parent, year, sex, band, total, source, SUM_OF_DISTRICTS))
                    continue
                omitted.setdefault((level, parent, year), Omitted(level, parent, year, reason))
    return (
        estimates,
        sorted(unplaced.values(), key=lambda u: (u.year, u.code)),
        sorted(omitted.values(), key=lambda o: (o.level, o.year, o.code)),
    )


def read_population(data: Path) -> tuple[list[Estimate], PopulationLoad]:
    """Every figure the shared data gives or sums to, and the load summary (rows per level, gaps)."""
    districts = read_lad_mid2020(data / LAD_MID2020) + read_lad_census2021(data / LAD_CENSUS2021)
    small, small_unplaced = small_area_estimates(data)
    parents, parent_unplaced, omitted = parent_estimates(districts, read_district_lookups(data))
    estimates = districts + small + parents
    seen: set[tuple[str, str, int, str, str]] = set()
    for e in estimates:
        key = (e.level, e.area_code, e.year, e.sex, e.age_band)
        if key in seen:
            raise PopulationFileError(f"{data}: two figures for {e.level} {e.area_code} {e.year} {e.sex} {e.age_band}")
        seen.add(key)
    rows = {level: sum(1 for e in estimates if e.level == level) for level in LEVELS}
    return estimates, PopulationLoad(rows, small_unplaced + parent_unplaced, omitted)
