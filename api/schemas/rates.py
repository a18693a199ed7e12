"""Response schemas of GET /v1/rates."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from api.schemas.common import AreaPeriodOut, AreaTableResponse, UnlocatedOut

DenominatorName = Literal["persons", "adult_females", "adults"]


class RateOut(AreaPeriodOut):
    count: int | None  # the released count; None: suppressed
    population: int | None  # None: no denominator for the area
    rate: float | None
    rate_lower: float | None
    rate_upper: float | None
    note: str | None = None  # why the rate is null


class DenominatorOut(BaseModel):
    """An area's denominator: the figure, the year it is for, the ONS product and how it was derived."""

    area_code: str
    population: int
    year: int
    source: str
    method: str


class NoDenominatorOut(BaseModel):
    area_code: str
    reason: str


class RatesResponse(AreaTableResponse):
    denominator: str
    denominator_description: str
    sex: str
    age_band: str
    per: int
    confidence: float
    basis: str
    denominators: list[DenominatorOut]
    no_denominator: list[NoDenominatorOut]
    rows: list[RateOut]
    unlocated: list[UnlocatedOut]
