"""ONS population estimates (mid-year and small-area estimates, Census counts) by area, sex and age band.

Reference data shared as a feed: one record per area, year, sex, age band and source. (The API's rate
denominators are loaded directly from the ONS files by `hub population load`.) Accepts the
shared data's population files (columns area_code, area_name, area_type, year, sex, age_band, population, and
optionally band_type, source). `area_type` (LSOA2011, LSOA2021, WD2024, LAD2021...) gives the area level and,
for LSOAs and wards, the boundary vintage. The event's day is the estimate's reference date: 30 June of the
year for mid-year estimates, Census day for Census counts. Categories are population-lsoa, population-ward and
population-district, so that protocols can release each level at its own precision.
"""

from __future__ import annotations

import re
from datetime import date

from pydantic import Field, field_validator, model_validator

from producers.feed import Feed, SourceContext
from producers.feeds.record_fields import SourceRecord
from sharing_protocols.datasets.ons_population import DATASET, SPEC
from sharing_protocols.envelope import EventEnvelope

MEASURE = "population"

COLUMNS = ("area_code", "area_name", "area_type", "year", "sex", "age_band", "population")

CENSUS_DAYS = {2001: date(2001, 4, 29), 2011: date(2011, 3, 27), 2021: date(2021, 3, 21)}
SEXES = frozenset({"persons", "female", "male"})
# area_type prefix -> (envelope area level, category, ONS code prefixes, vintage prefix or None)
AREA_TYPES: dict[str, tuple[str, str, tuple[str, ...], str | None]] = {
    "LSOA": ("lsoa", "population-lsoa", ("E01", "W01"), "lsoa"),
    "WD": ("ward", "population-ward", ("E05", "W05"), "wards"),
    "LAD": ("lad", "population-district", ("E06", "E07", "E08", "E09", "W06"), None),
}

_AREA_TYPE = re.compile(r"^(LSOA|WD|LAD)(\d{2}|\d{4})$")
_AREA_CODE = re.compile(r"^[EW]\d{8}$")
_AGE_BAND = re.compile(r"^(all ages|\d{1,2}-\d{1,2}|\d{1,2}\+)$")


class OnsPopulationRow(SourceRecord):
    """One estimate: the population of an area, for a year, sex and age band."""

    area_code: str
    area_type: str
    year: int = Field(ge=1991, le=2100)
    sex: str
    age_band: str
    population: int = Field(ge=0)
    source: str | None = None

    blank_is_none = ("source",)

    @field_validator("area_code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not _AREA_CODE.match(value):
            raise ValueError("must be an ONS area code such as E01020999")
        return value

    @field_validator("area_type")
    @classmethod
    def _type(cls, value: str) -> str:
        if not _AREA_TYPE.match(value.upper()):
            raise ValueError("must be an ONS area type such as LSOA2011, WD2024 or LAD2021")
        return value.upper()

    @field_validator("sex")
    @classmethod
    def _sex(cls, value: str) -> str:
        if value.lower() not in SEXES:
            raise ValueError("must be persons, female or male")
        return value.lower()

    @field_validator("age_band")
    @classmethod
    def _age_band(cls, value: str) -> str:
        if not _AGE_BAND.match(value.lower()):
            raise ValueError("must be 'all ages' or an age band such as 0-4, 16-64 or 90+")
        return value.lower()

    @model_validator(mode="after")
    def _consistent(self) -> OnsPopulationRow:
        if not self.area_code.startswith(AREA_TYPES[self.kind][2]):
            raise ValueError("area_code is not a code of the area_type's level")
        if self.source_kind == "census" and self.year not in CENSUS_DAYS:
            raise ValueError("year is not a Census year")
        return self

    @property
    def kind(self) -> str:
        """LSOA, WD or LAD."""
        match = _AREA_TYPE.match(self.area_type)
        assert match is not None
        return match.group(1)

    @property
    def vintage(self) -> str | None:
        """'lsoa-2011', 'wards-2024'...; None for districts (the hub's loaded districts are assumed)."""
        prefix = AREA_TYPES[self.kind][3]
        digits = self.area_type[len(self.kind) :]
        return None if prefix is None else f"{prefix}-{digits if len(digits) == 4 else '20' + digits}"

    @property
    def source_kind(self) -> str:
        """census, or mid-year-estimate (files without a source column are mid-year estimates)."""
        return "census" if self.source is not None and "census" in self.source.lower() else "mid-year-estimate"

    @property
    def reference_date(self) -> date:
        return CENSUS_DAYS[self.year] if self.source_kind == "census" else date(self.year, 6, 30)


def source_key(row: OnsPopulationRow) -> str:
    """Area, year, sex, age band and source kind: a revised estimate replaces the earlier one."""
    return f"{row.area_code}|{row.year}|{row.sex}|{row.age_band}|{row.source_kind}"


def to_envelope(row: OnsPopulationRow, ctx: SourceContext) -> EventEnvelope:
    """The reference record of one estimate, on its area and its reference day."""
    level, category, _, _ = AREA_TYPES[row.kind]
    return EventEnvelope.model_validate(
        {
            "event_id": ctx.event_id,
            "dataset": DATASET,
            "partner": ctx.partner,
            "schema_version": SPEC.schema_version,
            "occurred": {"start": row.reference_date, "end": row.reference_date, "precision": "day"},
            "location": {"kind": "area", "level": level, "code": row.area_code, "vintage": row.vintage},
            "category": category,
            "attributes": {
                "measure": MEASURE,
                "count": row.population,
                "sex": row.sex,
                "age_band": row.age_band,
                "year": row.year,
                "source": row.source_kind,
            },
        }
    )


FEED = Feed(
    dropped=("band_type", "source"),
    spec=SPEC,
    default_partner="ons",
    row_model=OnsPopulationRow,
    columns=COLUMNS,
    to_envelope=to_envelope,
    source_key=source_key,
)
