"""The query parameters every aggregate endpoint declares (the FastAPI side of `api.aggregate_query`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from api.aggregate_query import AggregateParams, Grouping, make_params
from api.answer import Format
from sharing_protocols.periods import PeriodType
from warehouse.queries.aggregates import Level


async def aggregate_params(
    dataset: Annotated[list[str], Query(description="dataset name; repeat for several")],
    from_: Annotated[str, Query(alias="from", description="first month, YYYY-MM")],
    to: Annotated[str, Query(description="last month, YYYY-MM")],
    level: Level = Level.ward,
    period: Annotated[PeriodType, Query(description="month, quarter, financial_year, rolling_12 or all")] = (
        PeriodType.month
    ),
    by: Annotated[list[Grouping] | None, Query(description="also group by category and/or dataset")] = None,
    area: Annotated[list[str] | None, Query(description="only these areas (codes at area_level)")] = None,
    area_level: Annotated[Level | None, Query(description="the level of `area` codes (default: level)")] = None,
    category: Annotated[list[str] | None, Query(description="only these categories")] = None,
    vintage: Annotated[
        str | None, Query(description="ward level only: re-aggregate stored points to this loaded ward vintage")
    ] = None,
    format: Annotated[Format, Query(description="json (default), csv or geojson")] = "json",
) -> AggregateParams:
    """Checks and normalises the shared parameters (422 with the reason when they do not make sense)."""
    return make_params(dataset, from_, to, level, period, by, area, area_level, category, vintage, format)


AggregateParamsDep = Annotated[AggregateParams, Depends(aggregate_params)]
