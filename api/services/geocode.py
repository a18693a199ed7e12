"""A postcode, WGS84 point or grid reference to ward, LSOA and their roll-ups (public reference data)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from api.answer import Answer
from api.errors import BadParameter, NotFound
from api.schemas.geocode import GeocodeAnswer, GeocodeBatchAnswer, GeocodeItem, GeocodeOut, to_location
from geography.geocoder import Geocoder

GeocoderLookup = Callable[[str], Geocoder]  # a ward vintage's geocoder; LookupError when none is loaded


def _geocoder(geocoders: GeocoderLookup, vintage: str) -> Geocoder:
    try:
        return geocoders(vintage)
    except LookupError:
        raise NotFound(f"no wards of vintage {vintage!r} are loaded") from None


def geocode_one(
    geocoders: GeocoderLookup,
    vintage: str,
    postcode: str | None,
    lat: float | None,
    lon: float | None,
    easting: float | None,
    northing: float | None,
) -> Answer[GeocodeAnswer]:
    """The ward, LSOA, district, CSP, county and force of one postcode, lat/lon point or grid reference."""
    try:
        location = to_location(postcode, lat, lon, easting, northing)
    except ValueError as exc:
        raise BadParameter(str(exc)) from None
    (result,) = _geocoder(geocoders, vintage).geocode([location])
    query = {"postcode": postcode, "lat": lat, "lon": lon, "easting": easting, "northing": northing}
    body = GeocodeAnswer(query={k: v for k, v in query.items() if v is not None}, result=GeocodeOut.of(result))
    return Answer(body, rows=1)


def geocode_many(geocoders: GeocoderLookup, vintage: str, items: Sequence[GeocodeItem]) -> Answer[GeocodeBatchAnswer]:
    """Up to 1,000 postcodes, lat/lon points or grid references at once; one answer per item, in order."""
    results = _geocoder(geocoders, vintage).geocode([item.location() for item in items])
    body = GeocodeBatchAnswer(
        result=[
            GeocodeAnswer(query=item.given(), result=GeocodeOut.of(result))
            for item, result in zip(items, results, strict=True)
        ]
    )
    return Answer(body, rows=len(results))
