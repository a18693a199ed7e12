"""GET and POST /v1/geocode: a postcode, WGS84 point or grid reference to ward, LSOA and their roll-ups.

Public reference data, so no API key is needed; every query is still recorded in the access log.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.dependencies import GeocodersDep
from api.reply import ReplyDep
from api.schemas.geocode import MAX_POSTCODE, GeocodeAnswer, GeocodeBatchAnswer, GeocodeRequest
from api.services import geocode as service

router = APIRouter(prefix="/v1", tags=["geography"])


@router.get("/geocode", response_model=GeocodeAnswer)
def geocode_one(
    reply: ReplyDep,
    geocoders: GeocodersDep,
    postcode: Annotated[str | None, Query(max_length=MAX_POSTCODE, description="a UK postcode, e.g. BN21 4UH")] = None,
    lat: Annotated[float | None, Query(allow_inf_nan=False, description="WGS84 latitude (with lon)")] = None,
    lon: Annotated[float | None, Query(allow_inf_nan=False, description="WGS84 longitude (with lat)")] = None,
    easting: Annotated[
        float | None, Query(allow_inf_nan=False, description="British National Grid easting (with northing)")
    ] = None,
    northing: Annotated[
        float | None, Query(allow_inf_nan=False, description="British National Grid northing (with easting)")
    ] = None,
    vintage: Annotated[str | None, Query(description="ward vintage (default HUB_GEO_WARD_VINTAGE)")] = None,
) -> GeocodeAnswer:
    """The ward, LSOA, district, CSP, county and force of one postcode, lat/lon point or grid reference."""
    ward_vintage = vintage or geocoders.settings.ward_vintage
    return reply(service.geocode_one(geocoders.get, ward_vintage, postcode, lat, lon, easting, northing))


@router.post("/geocode", response_model=GeocodeBatchAnswer)
def geocode_many(
    reply: ReplyDep,
    geocoders: GeocodersDep,
    body: GeocodeRequest,
    vintage: Annotated[str | None, Query(description="ward vintage (default HUB_GEO_WARD_VINTAGE)")] = None,
) -> GeocodeBatchAnswer:
    """Up to 1,000 postcodes, lat/lon points or grid references at once; one answer per item, in order."""
    return reply(service.geocode_many(geocoders.get, vintage or geocoders.settings.ward_vintage, body.items))
