"""Response schemas of GET /v1/counts (and /v1/public/counts)."""

from __future__ import annotations

from pydantic import BaseModel

from api.schemas.common import AreaPeriodOut, AreaTableResponse, UnlocatedOut


class CountOut(AreaPeriodOut):
    count: int | None  # None: suppressed under the disclosure rule


class TotalsOut(BaseModel):
    """Margins of the table: totals per area, period (and category, dataset) and overall."""

    area: dict[str, int | None]
    period: dict[str, int | None]
    category: dict[str, int | None] | None = None
    dataset: dict[str, int | None] | None = None
    overall: int | None


class CountsResponse(AreaTableResponse):
    rows: list[CountOut]
    totals: TotalsOut
    unlocated: list[UnlocatedOut]
