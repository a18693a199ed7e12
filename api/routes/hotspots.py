"""GET /v1/hotspots: Getis-Ord Gi* hot and cold spots of ward (or district) counts inside an area, as GeoJSON
(the method: `api.services.hotspots`)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from api.aggregate_query import AggregateParams, make_params
from api.auth import CallerDep
from api.dependencies import GeographyDep, RegisterDep, SessionDep, TablesDep, WardsDep
from api.rendering import GEOJSON_MEDIA_TYPE
from api.reply import ReplyDep
from api.services import hotspots as service
from sharing_protocols.periods import PeriodType
from warehouse.queries.aggregates import Level

router = APIRouter(prefix="/v1", tags=["hotspots"])


class HotspotLevel(StrEnum):
    """The levels Gi* is offered at."""

    ward = "ward"
    lad = "lad"


async def hotspot_params(
    dataset: Annotated[list[str], Query(description="dataset name; repeat for several")],
    from_: Annotated[str, Query(alias="from", description="first month, YYYY-MM")],
    to: Annotated[str, Query(description="last month, YYYY-MM")],
    area: Annotated[list[str], Query(description="the study region: these areas (codes at area_level)")],
    area_level: Annotated[Level | None, Query(description="the level of `area` codes (default: level)")] = None,
    level: Annotated[HotspotLevel, Query(description="ward (default) or lad")] = HotspotLevel.ward,
    category: Annotated[list[str] | None, Query(description="only these categories")] = None,
) -> AggregateParams:
    """The shared aggregate parameters for one count per area over the whole of from..to."""
    return make_params(
        dataset, from_, to, Level(level.value), PeriodType.all, None, area, area_level, category, None, "json"
    )


HotspotParamsDep = Annotated[AggregateParams, Depends(hotspot_params)]


@router.get(
    "/hotspots",
    response_class=Response,
    responses={
        200: {
            "content": {GEOJSON_MEDIA_TYPE: {}, "text/csv": {}},
            "description": "a GeoJSON FeatureCollection (format=csv: one record per area)",
        }
    },
)
def hotspots(
    session: SessionDep,
    caller: CallerDep,
    register: RegisterDep,
    tables: TablesDep,
    reply: ReplyDep,
    params: HotspotParamsDep,
    geography: GeographyDep,
    wards: WardsDep,
    format: Annotated[
        Literal["geojson", "json", "csv"],
        Query(description="geojson (default; json: the same document) or csv (one record per area, no shapes)"),
    ] = "geojson",
) -> Response:
    """Gi* z-score, p-value and hot/cold classification of each area of the study region, on released counts."""
    return reply(service.hotspots(session, geography, wards, register, tables, caller, params), format)
