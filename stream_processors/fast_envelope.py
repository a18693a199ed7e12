"""A fast path for decoding the envelopes `hub publish` writes: orjson plus exact checks, else pydantic decides.

`parse_envelope` returns an envelope only for a payload it can check completely against `EventEnvelope`'s rules
(the shape `model_dump_json` writes: every field present, canonical dates and UUIDs, JSON numbers); anything
else - including every invalid payload - gives None, and the caller validates with pydantic, whose errors are
the dead-letter reasons. So the fast path never accepts what pydantic refuses, and gives the same values.
"""

from __future__ import annotations

import math
import re
import uuid
from datetime import date
from typing import Any

import orjson

from sharing_protocols.envelope import (
    AreaLocation,
    BngPoint,
    EventEnvelope,
    OccurrencePeriod,
    PostcodeLocation,
    Wgs84Point,
)

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_AREA_CODE = re.compile(r"[EWSN][0-9]{8}")
_INT64 = 2.0**63
_KEYS = frozenset(EventEnvelope.model_fields)
_PERIOD_KEYS = frozenset(OccurrencePeriod.model_fields)
_LOCATION_KEYS = {
    "wgs84": frozenset(Wgs84Point.model_fields),
    "bng": frozenset(BngPoint.model_fields),
    "postcode": frozenset(PostcodeLocation.model_fields),
    "area": frozenset(AreaLocation.model_fields),
}


class _NotCertain(Exception):
    """The payload is not one the fast path can vouch for."""


def _slug(value: object) -> str:
    if type(value) is not str or not _SLUG.fullmatch(value):
        raise _NotCertain
    return value


def _day(value: object) -> date:
    if type(value) is not str or not _DAY.fullmatch(value):
        raise _NotCertain
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _NotCertain from None


def _number(value: object, low: float, high: float) -> float:
    if type(value) is not float and type(value) is not int:
        raise _NotCertain
    number = float(value)
    if not (math.isfinite(number) and low <= number <= high):
        raise _NotCertain
    return number


def _location(value: object) -> Wgs84Point | BngPoint | PostcodeLocation | AreaLocation | None:
    if value is None:
        return None
    if type(value) is not dict:
        raise _NotCertain
    kind = value.get("kind")
    if type(kind) is not str or _LOCATION_KEYS.get(kind) != value.keys():
        raise _NotCertain
    if kind == "wgs84":
        return Wgs84Point.model_construct(
            kind="wgs84", lon=_number(value["lon"], -180, 180), lat=_number(value["lat"], -90, 90)
        )
    if kind == "bng":
        return BngPoint.model_construct(
            kind="bng", easting=_number(value["easting"], 0, 700_000), northing=_number(value["northing"], 0, 1_300_000)
        )
    if kind == "postcode":
        postcode = value["postcode"]
        if type(postcode) is not str or not 2 <= len(postcode) <= 10:
            raise _NotCertain
        return PostcodeLocation.model_construct(kind="postcode", postcode=postcode)
    level, code, vintage = value["level"], value["code"], value["vintage"]
    if level not in ("lsoa", "ward", "lad") or type(code) is not str or not _AREA_CODE.fullmatch(code):
        raise _NotCertain
    if vintage is not None:
        _slug(vintage)
    return AreaLocation.model_construct(kind="area", level=level, code=code, vintage=vintage)


def _attributes(value: object) -> dict[str, Any]:
    if type(value) is not dict:
        raise _NotCertain
    for item in value.values():
        kind = type(item)
        if kind is float:
            # orjson reads an integer beyond 64 bits as a float; pydantic keeps it an int: leave those to pydantic.
            if not math.isfinite(item) or (abs(item) >= _INT64 and item.is_integer()):
                raise _NotCertain
        elif not (kind is str or kind is int or kind is bool or item is None):
            raise _NotCertain
    return value


def _envelope(data: object) -> EventEnvelope:
    if type(data) is not dict or data.keys() != _KEYS:
        raise _NotCertain
    version, event_id, schema = data["envelope_version"], data["event_id"], data["schema_version"]
    if type(version) is not int or version != 1 or type(schema) is not int or schema < 1:
        raise _NotCertain
    if type(event_id) is not str or not _UUID.fullmatch(event_id):
        raise _NotCertain
    occurred = data["occurred"]
    if type(occurred) is not dict or occurred.keys() != _PERIOD_KEYS:
        raise _NotCertain
    start, end, precision = _day(occurred["start"]), _day(occurred["end"]), occurred["precision"]
    if end < start or precision not in ("month", "day"):
        raise _NotCertain
    return EventEnvelope.model_construct(
        envelope_version=1,
        event_id=uuid.UUID(event_id),
        dataset=_slug(data["dataset"]),
        partner=_slug(data["partner"]),
        schema_version=schema,
        occurred=OccurrencePeriod.model_construct(start=start, end=end, precision=precision),
        location=_location(data["location"]),
        category=_slug(data["category"]),
        attributes=_attributes(data["attributes"]),
    )


def parse_envelope(payload: bytes) -> EventEnvelope | None:
    """The envelope in `payload` when the fast path can vouch for it; None: let pydantic validate it."""
    try:
        return _envelope(orjson.loads(payload))
    except (orjson.JSONDecodeError, _NotCertain, KeyError):
        return None
