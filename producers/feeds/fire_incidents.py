"""Fire and rescue incidents in the style of the Incident Recording System (IRS): fires, false alarms, special services.

Incident groups and types, and the cause motives of fires, are the published IRS/DCLG definitions (as held in
the shared data's fire_irs_incident_types.csv and fire_cause_motive.csv; DCLG/LGA fire definitions, Open
Government Licence v3.0). Property types and station grounds are checked against the deployment's code lists
`fire-irs-property-type` and `fire-stations` when it configures them. The incident address and the caller's
details are never published; the location is the incident's grid reference.
"""

from __future__ import annotations

import re
from datetime import date, time

from pydantic import Field, field_validator, model_validator

from producers.feed import Feed, SourceContext
from producers.feeds.record_fields import SourceRecord
from producers.feeds.row_values import check_coordinate_pair
from sharing_protocols.datasets.fire_incidents import DATASET, SPEC
from sharing_protocols.envelope import EventEnvelope

PROPERTY_TYPE_LIST = "fire-irs-property-type"
STATION_LIST = "fire-stations"

COLUMNS = (
    "Incident Number",
    "Call Date",
    "Call Time",
    "Incident Group",
    "Incident Type",
    "Cause Motive",
    "Property Type",
    "Easting",
    "Northing",
    "Station Ground",
    "Casualties",
)
IDENTIFIERS = ("Address", "Caller Name", "Caller Telephone")  # never read

# IRS incident groups (code -> label) and incident types (code -> group code, label, category slug).
INCIDENT_GROUPS: dict[str, str] = {"FIRE": "Fire", "FALSE_ALARM": "False alarm", "NON_FIRE": "Non-fire incident"}
INCIDENT_TYPES: dict[str, tuple[str, str, str]] = {
    "PRIMARY": ("FIRE", "Primary fire", "primary-fire"),
    "SECONDARY": ("FIRE", "Secondary fire", "secondary-fire"),
    "CHIMNEY": ("FIRE", "Chimney fire", "chimney-fire"),
    "LATE_CALL": ("FIRE", "Late fire call", "late-fire-call"),
    "FA_APPARATUS": ("FALSE_ALARM", "False alarm due to apparatus", "false-alarm"),
    "FA_GOOD_INTENT": ("FALSE_ALARM", "False alarm - good intent", "false-alarm"),
    "FA_MALICIOUS": ("FALSE_ALARM", "False alarm - malicious", "false-alarm"),
    "SPECIAL_SERVICE": ("NON_FIRE", "Special service (non-fire incident)", "special-service"),
}
CAUSE_MOTIVES: dict[str, str] = {"ACCIDENTAL": "Accidental", "DELIBERATE": "Deliberate"}

_INCIDENT_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/_-]{0,31}$")
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ,&()'./-]{0,79}$")


def _code(value: str, codes: dict[str, str], what: str) -> str:
    """The code of `value`, given as the code or its label (case and spacing ignored)."""
    wanted = " ".join(value.split()).casefold()
    for code, label in codes.items():
        if wanted in (code.casefold(), label.casefold()):
            return code
    raise ValueError(f"is not an IRS {what} ({', '.join(codes.values())})")


def _slug(code: str) -> str:
    return code.lower().replace("_", "-")


class FireIncidentRow(SourceRecord):
    """One incident of an IRS-style export."""

    incident_number: str = Field(alias="Incident Number")
    call_date: date = Field(alias="Call Date")
    call_time: time | None = Field(default=None, alias="Call Time")
    incident_group: str = Field(alias="Incident Group")
    incident_type: str = Field(alias="Incident Type")
    cause_motive: str | None = Field(default=None, alias="Cause Motive")
    property_type: str | None = Field(default=None, alias="Property Type")
    easting: float | None = Field(default=None, alias="Easting", ge=0, le=700_000)
    northing: float | None = Field(default=None, alias="Northing", ge=0, le=1_300_000)
    station_ground: str | None = Field(default=None, alias="Station Ground")
    casualties: int | None = Field(default=None, alias="Casualties", ge=0, le=1000)

    blank_is_none = (
        "call_time",
        "cause_motive",
        "property_type",
        "easting",
        "northing",
        "station_ground",
        "casualties",
    )

    @field_validator("incident_number")
    @classmethod
    def _number(cls, value: str) -> str:
        if not _INCIDENT_NUMBER.match(value):
            raise ValueError("must be the service's incident number (letters, digits, / _ -, up to 32)")
        return value

    @field_validator("incident_group")
    @classmethod
    def _group(cls, value: str) -> str:
        return _code(value, INCIDENT_GROUPS, "incident group")

    @field_validator("incident_type")
    @classmethod
    def _type(cls, value: str) -> str:
        return _code(value, {code: label for code, (_, label, _) in INCIDENT_TYPES.items()}, "incident type")

    @field_validator("cause_motive")
    @classmethod
    def _motive(cls, value: str | None) -> str | None:
        return None if value is None else _code(value, CAUSE_MOTIVES, "cause motive")

    @field_validator("property_type", "station_ground")
    @classmethod
    def _label(cls, value: str | None) -> str | None:
        if value is not None and not _LABEL.match(value):
            raise ValueError("must be a short label of letters, digits and simple punctuation")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> FireIncidentRow:
        if INCIDENT_TYPES[self.incident_type][0] != self.incident_group:
            raise ValueError("Incident Type does not belong to the Incident Group")
        if self.incident_group == "FIRE" and self.cause_motive is None:
            raise ValueError("Cause Motive is required for a fire")
        check_coordinate_pair(self.easting, self.northing, "Easting", "Northing")
        return self

    @property
    def category(self) -> str:
        """e.g. deliberate-primary-fire, accidental-secondary-fire, false-alarm, special-service."""
        slug = INCIDENT_TYPES[self.incident_type][2]
        return f"{_slug(self.cause_motive)}-{slug}" if self.incident_group == "FIRE" and self.cause_motive else slug


def source_key(row: FireIncidentRow) -> str:
    """The service's incident number."""
    return row.incident_number


def to_envelope(row: FireIncidentRow, ctx: SourceContext) -> EventEnvelope:
    """The event for one incident: its day, grid reference, category, and the hour of the call."""
    location = (
        None
        if row.easting is None or row.northing is None
        else {"kind": "bng", "easting": row.easting, "northing": row.northing}
    )
    return EventEnvelope.model_validate(
        {
            "event_id": ctx.event_id,
            "dataset": DATASET,
            "partner": ctx.partner,
            "schema_version": SPEC.schema_version,
            "occurred": {"start": row.call_date, "end": row.call_date, "precision": "day"},
            "location": location,
            "category": row.category,
            "attributes": {
                "incident_group": _slug(row.incident_group),
                "incident_type": _slug(row.incident_type),
                "cause_motive": None if row.cause_motive is None else _slug(row.cause_motive),
                "property_type": ctx.coded(PROPERTY_TYPE_LIST, "Property Type", row.property_type),
                "station_ground": ctx.coded(STATION_LIST, "Station Ground", row.station_ground),
                "casualties": row.casualties,
                "call_hour": None if row.call_time is None else row.call_time.hour,
            },
        }
    )


FEED = Feed(
    dropped=("Address", "Caller Name", "Caller Telephone"),
    spec=SPEC,
    default_partner="esfrs",
    row_model=FireIncidentRow,
    columns=COLUMNS,
    to_envelope=to_envelope,
    source_key=source_key,
    identifiers=IDENTIFIERS,
)
