"""OGC API - Features (Part 1: Core, GeoJSON) over monthly area counts, so that QGIS can add the hub as a layer
(collections, features and filters: `api.services.ogc`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from api.auth import CallerDep
from api.dependencies import GeographyDep, RegisterDep, SessionDep, TablesDep, WardsDep
from api.rendering import GEOJSON_MEDIA_TYPE
from api.reply import ReplyDep
from api.services import ogc as service
from api.services.ogc import DEFAULT_LIMIT, MAX_LIMIT, ItemFilter

router = APIRouter(tags=["ogc-api-features"])
CollectionIdDep = Annotated[str, Path(alias="collectionId", description="e.g. police-uk-street-ward-monthly")]


async def base_url(request: Request) -> str:
    """The request's base URL, without the trailing slash: links are absolute."""
    return str(request.base_url).rstrip("/")


BaseUrlDep = Annotated[str, Depends(base_url)]


@router.get("/", response_class=JSONResponse)
def landing_page(request: Request, base: BaseUrlDep) -> dict[str, Any]:
    """The OGC API landing page: links to the API definition, the conformance classes and the collections."""
    return service.landing_page(base, request.app.title)  # the title the app was created with


@router.get("/conformance", response_class=JSONResponse)
def conformance() -> dict[str, list[str]]:
    """The OGC API - Features conformance classes implemented: core, GeoJSON and OpenAPI 3.0."""
    return {"conformsTo": service.CONFORMANCE}


@router.get("/collections", response_class=JSONResponse)
def collections(
    base: BaseUrlDep,
    session: SessionDep,
    caller: CallerDep,
    register: RegisterDep,
    reply: ReplyDep,
    geography: GeographyDep,
) -> dict[str, Any]:
    """The collections the caller may see: one per dataset and level (ward, district) allowed."""
    return reply(service.collections(base, session, geography, register, caller))


@router.get("/collections/{collectionId}", response_class=JSONResponse)
def collection(
    base: BaseUrlDep,
    session: SessionDep,
    caller: CallerDep,
    register: RegisterDep,
    reply: ReplyDep,
    collection_id: CollectionIdDep,
    geography: GeographyDep,
) -> dict[str, Any]:
    """One collection's description, with its extent."""
    return reply(service.collection(base, session, geography, register, caller, collection_id))


@router.get(
    "/collections/{collectionId}/items",
    response_class=Response,
    responses={200: {"content": {GEOJSON_MEDIA_TYPE: {}}, "description": "a GeoJSON FeatureCollection"}},
)
def items(
    base: BaseUrlDep,
    session: SessionDep,
    caller: CallerDep,
    register: RegisterDep,
    tables: TablesDep,
    reply: ReplyDep,
    collection_id: CollectionIdDep,
    geography: GeographyDep,
    wards: WardsDep,
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat (WGS84)")] = None,
    datetime_: Annotated[
        str | None, Query(alias="datetime", description="an RFC 3339 instant or interval (a/b, ../b, a/..)")
    ] = None,
    limit: Annotated[str | None, Query(description=f"features per page, 1-{MAX_LIMIT} (default {DEFAULT_LIMIT})")] = (
        None
    ),
    offset: Annotated[str | None, Query(description="features to skip (default 0)")] = None,
    f: Annotated[str | None, Query(description="json (GeoJSON)")] = None,
) -> Response:
    """The collection's features (area x month), filtered by bbox and datetime, a page at a time."""
    wanted = ItemFilter(bbox, datetime_, limit, offset, f)
    return reply(service.items(base, session, geography, wards, register, tables, caller, collection_id, wanted))


@router.get(
    "/collections/{collectionId}/items/{featureId}",
    response_class=Response,
    responses={200: {"content": {GEOJSON_MEDIA_TYPE: {}}, "description": "a GeoJSON Feature"}},
)
def item(
    base: BaseUrlDep,
    session: SessionDep,
    caller: CallerDep,
    register: RegisterDep,
    tables: TablesDep,
    reply: ReplyDep,
    collection_id: CollectionIdDep,
    geography: GeographyDep,
    wards: WardsDep,
    wanted: Annotated[str, Path(alias="featureId", description="area code and month, e.g. E05011234.2019-01")],
) -> Response:
    """One feature: an area's count in a month."""
    return reply(service.item(base, session, geography, wards, register, tables, caller, collection_id, wanted))
