"""Response schemas of GET /v1/scorecard."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class ScorecardRowOut(BaseModel):
    indicator_id: str
    title: str
    status: Literal["ok", "not_available"]
    reason: str | None = None  # why there is no figure (no protocol, no data, suppressed, no denominator)
    period_start: str | None = None
    period_end: str | None = None
    financial_year: str | None = None
    actual: float | None = None
    count: int | None = None  # the released count the actual figure is made of
    target: float | None = None
    target_is_area_override: bool | None = None
    rag: str | None = None
    previous: float | None = None
    change: float | None = None
    change_pct: float | None = None
    significant: bool | None = None
    direction_of_travel: str | None = None
    provisional: bool | None = None
    denominator: str | None = None  # source, year and method of a rate's population
    disclosure: str | None = None
    protocols: list[str] = []


class ScorecardOut(BaseModel):
    csp: str
    rows: list[ScorecardRowOut]
