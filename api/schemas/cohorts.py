"""Response schemas of GET /v1/cohorts."""

from __future__ import annotations

from pydantic import BaseModel

from api.schemas.common import DisclosureOut
from warehouse.queries.aggregates import Level


class CohortOut(BaseModel):
    """One cohort of one area and cohort period (None: suppressed)."""

    area_code: str | None  # None (in `unlinked`): no code at the level
    area_name: str | None
    cohort: str
    period: str  # YYYY-MM/YYYY-MM (or YYYY-MM for a single month)
    period_start: str
    period_end: str
    cohort_size: int | None
    reoffenders: int | None
    rate: float | None
    predicted_rate: float | None
    difference: float | None


class CohortsResponse(BaseModel):
    definition: str
    dataset: str
    level: Level
    protocols: list[str]
    disclosure: DisclosureOut
    rows: list[CohortOut]
    unlinked: list[CohortOut]
