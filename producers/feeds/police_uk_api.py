"""data.police.uk API crimes (the `crimes-street` JSON flattened to CSV): row schema and mapping to events.

Same content as the monthly street-level files, in the API's shape: category slugs, the API's numeric `id` (the
record key), `persistent_id` (the 64-hex crime id, blank for anti-social behaviour), and the street as an
"On or near ..." place name.
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from producers.feed import Feed, SourceContext
from producers.feeds.police_uk_street import CrimeId
from producers.feeds.record_fields import Month, SourceRecord
from producers.feeds.row_values import blank_to_none, check_coordinate_pair
from sharing_protocols.datasets.police_uk_api import DATASET, SPEC
from sharing_protocols.datasets.police_uk_street import CATEGORIES
from sharing_protocols.envelope import EventEnvelope
from sharing_protocols.periods import month_period, parse_month

COLUMNS = (
    "category",
    "persistent_id",
    "date",
    "lat",
    "long",
    "street_id",
    "street_name",
    "context",
    "id",
    "location_type",
    "location_subtype",
    "outcome_status",
)
CATEGORY_SLUGS = frozenset(CATEGORIES.values())
LOCATION_TYPES = {"Force": "force", "BTP": "btp"}  # a force's own record, or British Transport Police's
NO_OUTCOME = "NA"  # how the flattened API export writes a null outcome_status


class PoliceUkApiRow(SourceRecord):
    """One crime or ASB record of the police.uk API."""

    category: str
    persistent_id: CrimeId = None
    date: Month
    lat: float | None = Field(default=None, ge=-90, le=90)
    long: float | None = Field(default=None, ge=-180, le=180)
    street_name: str | None = None
    id: int = Field(ge=1)
    location_type: str | None = None
    outcome_status: str | None = None

    @field_validator("persistent_id", "lat", "long", "street_name", "location_type", "outcome_status", mode="before")
    @classmethod
    def _blank(cls, value: object) -> object:
        value = blank_to_none(value)
        return None if value == NO_OUTCOME else value

    @field_validator("category")
    @classmethod
    def _category(cls, value: str) -> str:
        if value not in CATEGORY_SLUGS:
            raise ValueError("is not a police.uk crime category")
        return value

    @field_validator("location_type")
    @classmethod
    def _location_type(cls, value: str | None) -> str | None:
        if value is not None and value not in LOCATION_TYPES:
            raise ValueError("must be Force or BTP")
        return value

    @model_validator(mode="after")
    def _both_coordinates(self) -> PoliceUkApiRow:
        check_coordinate_pair(self.long, self.lat, "long", "lat")
        return self


def source_key(row: PoliceUkApiRow) -> str:
    """The API's numeric id (every record has one, ASB included)."""
    return str(row.id)


def to_envelope(row: PoliceUkApiRow, ctx: SourceContext) -> EventEnvelope:
    """The event for one record: its month, its map point, its category and outcome."""
    year, month = parse_month(row.date)
    location = None if row.lat is None or row.long is None else {"kind": "wgs84", "lon": row.long, "lat": row.lat}
    return EventEnvelope.model_validate(
        {
            "event_id": ctx.event_id,
            "dataset": DATASET,
            "partner": ctx.partner,
            "schema_version": SPEC.schema_version,
            "occurred": month_period(year, month),
            "location": location,
            "category": row.category,
            "attributes": {
                "crime_id": row.persistent_id,
                "location_description": ctx.free_text(row.street_name, "street"),
                "location_type": None if row.location_type is None else LOCATION_TYPES[row.location_type],
                "last_outcome_category": row.outcome_status,
            },
        }
    )


FEED = Feed(
    spec=SPEC,
    default_partner="police-uk",
    row_model=PoliceUkApiRow,
    columns=COLUMNS,
    to_envelope=to_envelope,
    source_key=source_key,
)
