"""The versioned event envelope that every partner publishes and every processor consumes."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import date
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sharing_protocols.periods import month_period

ENVELOPE_VERSION: Literal[1] = 1

# Fixed namespace so that the same source record always gets the same event id, on any machine.
_EVENT_NAMESPACE = uuid.UUID("6f1c1d2e-7c55-4f8e-9a7e-3b2f61c0a9d1")

AttributeValue = str | int | float | bool | None
# Dataset, partner and category identifiers: lower-case slugs, so that they are safe to quote in audit records.
SLUG = r"^[a-z0-9][a-z0-9-]{0,63}$"


class OccurrencePeriod(BaseModel):
    """When the event happened, as an inclusive date range at a stated precision."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: date
    end: date
    precision: Literal["month", "day"]

    @model_validator(mode="after")
    def _ordered(self) -> OccurrencePeriod:
        if self.end < self.start:
            raise ValueError("period end is before its start")
        return self

    @classmethod
    def month(cls, year: int, month: int) -> OccurrencePeriod:
        return cls.model_validate(month_period(year, month))


class Wgs84Point(BaseModel):
    """A WGS84 longitude/latitude pair (EPSG:4326)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["wgs84"] = "wgs84"
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)


class BngPoint(BaseModel):
    """A British National Grid easting/northing in metres (EPSG:27700)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["bng"] = "bng"
    easting: float = Field(ge=0, le=700_000)
    northing: float = Field(ge=0, le=1_300_000)


class PostcodeLocation(BaseModel):
    """A UK postcode (the hub geocodes it to its centroid, or its sector's or district's)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["postcode"] = "postcode"
    postcode: str = Field(min_length=2, max_length=10)


AreaLevel = Literal["lsoa", "ward", "lad"]


class AreaLocation(BaseModel):
    """An ONS area, for records that a partner holds only by area (aggregate returns, small-area estimates).

    `vintage` names the boundary set the code belongs to (e.g. "lsoa-2011"); without it the hub's loaded
    vintage of that level is assumed. The hub rolls the area up (LSOA -> ward -> district -> CSP ...).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["area"] = "area"
    level: AreaLevel
    code: str = Field(pattern=r"^[EWSN]\d{8}$")
    vintage: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")


Location = Annotated[Wgs84Point | BngPoint | PostcodeLocation | AreaLocation, Field(discriminator="kind")]


class EventEnvelope(BaseModel):
    """One partner event as it travels on a topic: identity, provenance, time, place, category, attributes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    envelope_version: Literal[1] = ENVELOPE_VERSION
    event_id: uuid.UUID
    dataset: str = Field(pattern=SLUG)
    partner: str = Field(pattern=SLUG)
    schema_version: int = Field(ge=1)
    occurred: OccurrencePeriod
    location: Location | None
    category: str = Field(pattern=SLUG)
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode("utf-8")

    @classmethod
    def from_bytes(cls, payload: bytes) -> EventEnvelope:
        return cls.model_validate_json(payload)


def stable_event_id(dataset: str, partner: str, source_key: str) -> uuid.UUID:
    """The event id for a source record: the same record always maps to the same id."""
    return uuid.uuid5(_EVENT_NAMESPACE, f"{dataset}\x1f{partner}\x1f{source_key}")


@lru_cache(maxsize=64)
def _event_id_mac(key: bytes, dataset: str, partner: str) -> hmac.HMAC:
    """The HMAC of a partner's event ids for one dataset, fed all but the source key (copied for each record; unlike
    the one-shot `hmac.digest`, which releases the GIL on every call and then waits for the producer's sender
    thread to give it back, an update this short keeps it)."""
    return hmac.new(key, f"event-id\x1f{dataset}\x1f{partner}\x1f".encode(), hashlib.sha256)


def keyed_event_id(key: bytes, dataset: str, partner: str, source_key: str) -> uuid.UUID:
    """The event id for a source record under the partner's secret: stable, and not recomputable from a reference."""
    mac = _event_id_mac(key, dataset, partner).copy()
    mac.update(source_key.encode())
    digest = mac.digest()
    return uuid.UUID(bytes=digest[:16], version=4)  # random-looking by construction; v4 marks "no name inside"


class Retraction(BaseModel):
    """A partner withdrawing one of its records: on a topic, a null-valued message keyed by the event id."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: uuid.UUID
    dataset: str = Field(pattern=SLUG)
    partner: str = Field(pattern=SLUG)
    schema_version: int = Field(ge=1)
