"""Scorecard indicators as data: the YAML document format, its pydantic model and parsing with located errors.

An indicator says what is counted (a catalogue dataset, optionally filtered by category and attribute values),
whether it is reported as a count or a rate per population, which way is good, its baseline, its targets by
financial year (with per-area overrides), how late its data arrive and how long they stay provisional. Parsing
is pure; `load_directory` is the only function that reads files.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated, Literal, NamedTuple

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, field_validator
from pydantic_core import ErrorDetails

from sharing_protocols.catalogue import CATALOGUE
from sharing_protocols.documents import (
    SLUG_MESSAGE,
    SLUG_PATTERN,
    DocumentError,
    DocumentFormat,
    FrozenModel,
    Problem,
    Slug,
    as_tuple,
)

Direction = Literal["lower_is_better", "higher_is_better"]
MeasureKind = Literal["count", "rate"]
Level = Literal["ward", "lsoa", "lad", "csp", "county", "pfa"]
Sex = Literal["persons", "female", "male"]

_YEAR_PATTERN = r"^\d{4}/\d{2}$"
_AREA_PATTERN = r"^[EWSNK]\d{8}$"
_AGE_BAND_PATTERN = r"^(all ages|\d{1,2}\+|\d{1,2}-\d{1,3})$"
_PATTERN_MESSAGES = {
    SLUG_PATTERN: SLUG_MESSAGE,
    _YEAR_PATTERN: 'must be a financial year written like "2025/26"',
    _AREA_PATTERN: "must be a GSS area code (a letter and 8 digits, e.g. E22000295)",
    _AGE_BAND_PATTERN: 'must be an age band: "all ages", "16+" or "16-64"',
}

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
AreaCode = Annotated[str, StringConstraints(pattern=_AREA_PATTERN)]
AgeBand = Annotated[str, StringConstraints(pattern=_AGE_BAND_PATTERN)]


def _consecutive(year: str) -> str:
    start, end = int(year[:4]), int(year[5:])
    if (start + 1) % 100 != end:
        raise ValueError(f'must name two consecutive years (e.g. "{start}/{(start + 1) % 100:02d}")')
    return year


def _a_number(value: object) -> object:
    """A YAML number only: no booleans or quoted strings standing in for one."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


FinancialYear = Annotated[str, StringConstraints(pattern=_YEAR_PATTERN), AfterValidator(_consecutive)]
Value = Annotated[float, BeforeValidator(_a_number), Field(ge=0)]


def _a_scalar(value: object) -> object:
    if not isinstance(value, str | bool | int):
        raise ValueError("must be a text, true/false or a whole number")
    return value


AttributeValue = Annotated[str | bool | int, BeforeValidator(_a_scalar)]


class Denominator(FrozenModel):
    """The population a rate is per: ONS estimates of `sex` in `age_band`, per `per` people."""

    sex: Sex = "persons"
    age_band: AgeBand = "all ages"
    per: Literal[1000, 10000, 100000] = 1000


class Baseline(FrozenModel):
    """The figure targets are set against: one `value` for every area, or per-area `areas` values, or both."""

    year: FinancialYear
    value: Value | None = None
    areas: dict[AreaCode, Value] = Field(default_factory=dict)


class Target(NamedTuple):
    """A target value and the area whose override it is (None: the target for every area)."""

    value: float
    area_code: str | None


class Indicator(FrozenModel):
    """One scorecard indicator."""

    id: Slug
    title: Text
    definition: LongText
    owner: Slug  # the organisation accountable for the indicator (an organisation id, as protocols name them)
    dataset: str
    categories: Annotated[tuple[Slug, ...], BeforeValidator(as_tuple), Field(min_length=1)] | None = None
    # Only events whose attribute has this value are counted.
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)
    measure: MeasureKind
    denominator: Denominator | None = None
    direction: Direction
    baseline: Baseline
    targets: dict[FinancialYear, Value] = Field(default_factory=dict)
    area_targets: dict[AreaCode, dict[FinancialYear, Value]] = Field(default_factory=dict)
    tolerance_pct: Annotated[float, BeforeValidator(_a_number), Field(ge=0, le=100)] = 5.0
    data_lag_months: int = Field(ge=0, le=36, strict=True)
    provisional_months: int = Field(default=0, ge=0, le=36, strict=True)
    level: Level = "csp"

    @field_validator("dataset")
    @classmethod
    def _known_dataset(cls, name: str) -> str:
        if name not in CATALOGUE:
            raise ValueError(f"is not a dataset of the catalogue; known datasets: {', '.join(sorted(CATALOGUE))}")
        return name

    def target_for(self, area_code: str, year: str) -> Target | None:
        """The target for `area_code` in financial `year`: the area's override first, else the all-areas target."""
        override = self.area_targets.get(area_code, {}).get(year)
        if override is not None:
            return Target(override, area_code)
        value = self.targets.get(year)
        return None if value is None else Target(value, None)

    def baseline_for(self, area_code: str) -> float | None:
        """The baseline value of `area_code`: its own, else the all-areas value (None when neither is given)."""
        return self.baseline.areas.get(area_code, self.baseline.value)

    def target_rows(self) -> list[tuple[str | None, str, float]]:
        """Every target as (area code or None for all areas, financial year, value), all-areas targets first."""
        rows: list[tuple[str | None, str, float]] = [(None, year, value) for year, value in self.targets.items()]
        for area, years in self.area_targets.items():
            rows += [(area, year, value) for year, value in years.items()]
        return rows


class IndicatorError(DocumentError):
    """Indicator documents that cannot be used; `problems` names each file, field path and what is wrong."""


def _reword(path: str, error: ErrorDetails, message: str) -> str:
    """The indicator format's own wording: "must be ..." rather than pydantic's "Input should be ..."."""
    return re.sub(r"^Input should (be|have)", r"must \1", message)


INDICATOR_FORMAT = DocumentFormat("indicator", Indicator, IndicatorError, _PATTERN_MESSAGES, _reword)


def consistency_problems(indicator: Indicator, source: str) -> list[Problem]:
    """Rules a well-formed indicator must also meet: its measure, attribute filter, baseline and target years."""
    problems: list[Problem] = []

    def add(path: str, message: str) -> None:
        problems.append(Problem(source, path, message))

    if indicator.measure == "rate" and indicator.denominator is None:
        add("denominator", "is required for a rate (sex, age_band and per)")
    if indicator.measure == "count" and indicator.denominator is not None:
        add("denominator", "is given but the measure is a count")
    spec = CATALOGUE[indicator.dataset]
    for name in indicator.attributes:
        if name not in spec.attributes:
            add(f"attributes.{name}", f"is not an attribute of {indicator.dataset}")
        elif name in spec.free_text or name in spec.linkage:
            add(f"attributes.{name}", "is free text or a pseudonym: an indicator cannot filter on it")
    if indicator.baseline.value is None and not indicator.baseline.areas:
        add("baseline", "needs a value, or values by area under areas")
    start = int(indicator.baseline.year[:4])
    for area, years in [(None, indicator.targets), *indicator.area_targets.items()]:
        for year in years:
            if int(year[:4]) <= start:
                at = "targets" if area is None else f"area_targets.{area}"
                add(f"{at}.{year}", f"is not after the baseline year {indicator.baseline.year}")
    return problems


def build_indicator(data: object, source: str) -> Indicator:
    """An Indicator from parsed YAML (or any mapping), checked for shape and consistency; IndicatorError if not."""
    return INDICATOR_FORMAT.build(data, source, consistency_problems)


def parse_indicator(text: str, source: str) -> Indicator:
    """The indicator in the YAML `text`; `source` (e.g. the file name) is used in problems only."""
    return build_indicator(INDICATOR_FORMAT.load_yaml(text, source), source)


def load_directory(path: Path | str) -> list[Indicator]:
    """Every indicator in the *.yaml files of directory `path`, by file name.

    Raises IndicatorError listing the problems of every failing file (and any id given by two files), and
    FileNotFoundError when `path` is not a directory.
    """
    directory = Path(path)
    if not directory.is_dir():
        raise FileNotFoundError(f"no indicator directory at {directory}")
    indicators: dict[str, tuple[Indicator, Path]] = {}
    problems: list[Problem] = []
    for file in sorted(directory.glob("*.yaml")):
        try:
            indicator = parse_indicator(file.read_text(encoding="utf-8"), str(file))
        except IndicatorError as exc:
            problems += exc.problems
            continue
        if indicator.id in indicators:
            problems.append(Problem(str(file), "id", f"{indicator.id} is also in {indicators[indicator.id][1]}"))
            continue
        indicators[indicator.id] = (indicator, file)
    if problems:
        raise IndicatorError(problems)
    return [indicator for indicator, _ in indicators.values()]
