"""GET /v1/areas: the areas the caller's organisation serves (its CSP), as the protocols in force declare them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.answer import Format
from api.auth import CallerDep
from api.dependencies import GeographyDep, RegisterDep, SessionDep
from api.rendering import GEOJSON_MEDIA_TYPE
from api.reply import ReplyDep
from api.schemas.areas import AreasResponse
from api.services import areas as service
from warehouse.queries.aggregates import Level

router = APIRouter(prefix="/v1", tags=["areas"])


@router.get(
    "/areas",
    response_model=AreasResponse,
    responses={200: {"content": {GEOJSON_MEDIA_TYPE: {}}, "description": "with format=geojson: the areas' shapes"}},
)
def areas(
    caller: CallerDep,
    session: SessionDep,
    geography: GeographyDep,
    register: RegisterDep,
    reply: ReplyDep,
    level: Annotated[Level | None, Query(description="the level (default: the level the areas are declared)")] = None,
    format: Annotated[Format, Query(description="json (default), csv or geojson (WGS84 shapes)")] = "json",
) -> AreasResponse | Response:
    """Every area of `level` inside the areas the protocols in force declare the caller's organisation serves (a
    recipient's `area`, which clauses scoped `of: recipient` limit it to); empty when none is declared. Area codes,
    names and boundaries only: no figures."""
    return reply(service.areas(session, geography, register, caller, level, format), format)
