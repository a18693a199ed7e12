"""Response schemas of GET /v1/trends."""

from __future__ import annotations

from pydantic import BaseModel

from api.schemas.common import AreaPeriodOut, AreaTableResponse


class ComparisonOut(BaseModel):
    """The change from a comparison period's released count to the current period's."""

    period: str
    count: int | None  # the released count; None: suppressed, or before the first month with data
    absolute_change: int | None
    percent_change: float | None  # None also when the base is 0
    p_value: float | None
    significant: bool | None
    indicative: bool | None
    note: str | None = None  # why there is no change


class TrendOut(AreaPeriodOut):
    count: int | None
    previous: ComparisonOut
    year_ago: ComparisonOut


class TrendsResponse(AreaTableResponse):
    method: str
    alpha: float
    indicative_below: int
    first_month: str | None  # the first month with data of these datasets under the caller's clauses
    basis: str
    rows: list[TrendOut]
