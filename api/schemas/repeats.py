"""Response schemas of GET /v1/repeats: domestic abuse repeat victimisation and the MARAC repeat rate."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from api.schemas.common import DisclosureOut
from warehouse.queries.aggregates import Level

Measure = Literal["domestic_abuse", "marac"]
MaracGrouping = Literal["marac_area", "area"]


class DomesticAbuseOut(BaseModel):
    """Domestic abuse incidents of one area and month (None: suppressed)."""

    area_code: str | None  # None: incidents with no code at the level
    area_name: str | None
    month: str
    incidents: int | None
    repeat_incidents: int | None
    repeat_percent: float | None
    without_victim_pseudonym: int | None


class DomesticAbuseTotals(BaseModel):
    incidents: int | None
    repeat_incidents: int | None
    repeat_percent: float | None
    without_victim_pseudonym: int | None


class DomesticAbuseResponse(BaseModel):
    measure: Literal["domestic_abuse"] = "domestic_abuse"
    definition: str
    dataset: str
    level: Level
    months: list[str]
    protocols: list[str]
    disclosure: DisclosureOut
    rows: list[DomesticAbuseOut]
    unlocated: list[DomesticAbuseOut]
    totals: DomesticAbuseTotals


class MaracOut(BaseModel):
    """MARAC cases reviewed in one rolling 12 months at one MARAC and/or area (None: suppressed)."""

    marac_area: str | None  # None: not grouped by MARAC
    area_code: str | None  # None: not grouped by area, or (in `unlocated`) no code at the level
    area_name: str | None
    period: str
    cases: int | None
    repeat_cases: int | None
    repeat_rate: float | None
    unlinked_cases: int | None
    information_only: int | None


class MaracResponse(BaseModel):
    measure: Literal["marac"] = "marac"
    definition: str
    dataset: str
    level: Level
    by: list[MaracGrouping]
    periods: list[str]
    protocols: list[str]
    disclosure: DisclosureOut
    rows: list[MaracOut]
    unlocated: list[MaracOut]
