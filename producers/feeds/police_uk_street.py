"""data.police.uk street-level crime and ASB: the monthly CSV row schema and its mapping to events."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator, model_validator

from producers.feed import Feed, SourceContext
from producers.feeds.record_fields import Month, SourceRecord
from producers.feeds.row_values import check_coordinate_pair, month_occurrence
from sharing_protocols.datasets.police_uk_street import CATEGORIES, DATASET, SPEC
from sharing_protocols.envelope import EventEnvelope

COLUMNS = (
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
)


_CRIME_ID = re.compile(r"^[0-9a-f]{64}$")


def check_crime_id(value: str | None) -> str | None:
    """A police.uk crime id (or None); ValueError unless it is 64 lower-case hex characters."""
    if value is not None and not _CRIME_ID.match(value):
        raise ValueError("must be a 64-character lower-case hex police.uk crime id")
    return value


CrimeId = Annotated[str | None, AfterValidator(check_crime_id)]


class PoliceUkStreetRow(SourceRecord):
    """One row of a data.police.uk `*-street.csv` file."""

    crime_id: CrimeId = Field(default=None, alias="Crime ID")
    month: Month = Field(alias="Month")
    reported_by: str = Field(alias="Reported by", min_length=1)
    falls_within: str = Field(alias="Falls within", min_length=1)
    longitude: float | None = Field(default=None, alias="Longitude", ge=-180, le=180)
    latitude: float | None = Field(default=None, alias="Latitude", ge=-90, le=90)
    location: str | None = Field(default=None, alias="Location")
    lsoa_code: str | None = Field(default=None, alias="LSOA code")
    lsoa_name: str | None = Field(default=None, alias="LSOA name")
    crime_type: str = Field(alias="Crime type")
    last_outcome_category: str | None = Field(default=None, alias="Last outcome category")

    blank_is_none = ("crime_id", "longitude", "latitude", "location", "lsoa_code", "lsoa_name", "last_outcome_category")

    @field_validator("crime_type")
    @classmethod
    def _crime_type(cls, value: str) -> str:
        if value not in CATEGORIES:
            raise ValueError("is not a police.uk crime type")
        return value

    @model_validator(mode="after")
    def _both_coordinates(self) -> PoliceUkStreetRow:
        check_coordinate_pair(self.longitude, self.latitude, "Longitude", "Latitude")
        return self


def source_key(row: PoliceUkStreetRow) -> str | None:
    """The record's own id, where police.uk gives one (ASB rows have none)."""
    return row.crime_id


def to_envelope(row: PoliceUkStreetRow, ctx: SourceContext) -> EventEnvelope:
    """The event for one row; `ctx.key` identifies the source record within the partner's feed."""
    location = (
        {"kind": "wgs84", "lon": row.longitude, "lat": row.latitude}
        if row.longitude is not None and row.latitude is not None
        else None
    )
    return EventEnvelope.model_validate(
        {
            "event_id": ctx.event_id,
            "dataset": DATASET,
            "partner": ctx.partner,
            "schema_version": SPEC.schema_version,
            "occurred": month_occurrence(row.month),
            "location": location,
            "category": CATEGORIES[row.crime_type],
            "attributes": {
                "crime_id": row.crime_id,
                "reported_by": row.reported_by,
                "falls_within": row.falls_within,
                "location_description": ctx.free_text(row.location, "street"),
                "lsoa_code": row.lsoa_code,
                "last_outcome_category": row.last_outcome_category,
            },
        }
    )


FEED = Feed(
    spec=SPEC,
    default_partner="police-uk",
    row_model=PoliceUkStreetRow,
    columns=COLUMNS,
    to_envelope=to_envelope,
    source_key=source_key,
)
