"""Request and response schemas of GET and POST /v1/geocode, and the one location form a query gives."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from geography.geocoder import GeocodeResult, Location
from sharing_protocols.envelope import BngPoint, PostcodeLocation, Wgs84Point

MAX_ITEMS = 1000
MAX_POSTCODE = 32  # longer strings are refused (422); shorter non-postcodes are answered invalid_postcode
_FORMS = "give exactly one of: postcode, lat and lon, or easting and northing"


def postcode_location(postcode: str) -> PostcodeLocation:
    """The postcode as a location; one too short or long to be a postcode is kept, to be answered invalid_postcode."""
    try:
        return PostcodeLocation(postcode=postcode)
    except ValidationError:
        return PostcodeLocation.model_construct(postcode=postcode)


def to_location(
    postcode: str | None, lat: float | None, lon: float | None, easting: float | None, northing: float | None
) -> Location:
    """The one location form given; ValueError (with a message naming the fields) otherwise."""
    forms = {"postcode": (postcode,), "lat/lon": (lat, lon), "easting/northing": (easting, northing)}
    given = [name for name, values in forms.items() if any(v is not None for v in values)]
    if len(given) != 1:
        raise ValueError(f"{_FORMS} (got {', '.join(given) if given else 'none'})")
    form = given[0]
    if any(v is None for v in forms[form]):
        raise ValueError(f"{form.replace('/', ' and ')} must be given together")
    try:
        if form == "postcode":
            return postcode_location(str(postcode))
        if form == "lat/lon":
            return Wgs84Point(lat=float(lat or 0), lon=float(lon or 0))
        return BngPoint(easting=float(easting or 0), northing=float(northing or 0))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ValueError(problems) from None


class GeocodeOut(BaseModel):
    """Where one query fell; `unmatched` says why not when no ward was found."""

    x: float | None = Field(description="easting, EPSG:27700")
    y: float | None = Field(description="northing, EPSG:27700")
    areas: dict[str, str] = Field(description="codes by level: ward, lsoa, lad, csp, county, pfa (those found)")
    vintage: str | None
    method: str | None
    quality: int | None = Field(description="1 coordinates, 2 postcode, 3 approximate postcode, 4 sector, 5 district")
    unmatched: str | None = Field(description="no_location, outside_coverage, invalid_postcode or unknown_postcode")

    @classmethod
    def of(cls, result: GeocodeResult) -> GeocodeOut:
        return cls(
            x=result.x,
            y=result.y,
            areas=dict(result.areas),
            vintage=result.vintage,
            method=result.method,
            quality=result.quality,
            unmatched=result.unmatched,
        )


class GeocodeItem(BaseModel):
    """One query: a postcode, a lat/lon pair or an easting/northing pair (finite numbers only)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    postcode: str | None = Field(default=None, max_length=MAX_POSTCODE)
    lat: float | None = None
    lon: float | None = None
    easting: float | None = None
    northing: float | None = None

    @model_validator(mode="after")
    def _one_form(self) -> GeocodeItem:
        self.location()
        return self

    def location(self) -> Location:
        return to_location(self.postcode, self.lat, self.lon, self.easting, self.northing)

    def given(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class GeocodeRequest(BaseModel):
    """Up to 1,000 queries, answered in order."""

    model_config = ConfigDict(extra="forbid")

    items: list[GeocodeItem] = Field(max_length=MAX_ITEMS)


class GeocodeAnswer(BaseModel):
    query: dict[str, Any]
    result: GeocodeOut


class GeocodeBatchAnswer(BaseModel):
    result: list[GeocodeAnswer]
