"""ISTV A&E assault attendances (ISB 1594 / DAPB1594 minimum data set), as an ED's CSV or XML extract.

One record per attendance for assault: when the patient arrived, when and where the assault happened, how (the
assault method) and what kind of place (the assault location type), with two free-text descriptions. The national
code lists for ASSAULT METHOD and ASSAULT LOCATION TYPE are not held by the hub: codes are checked against the
deployment's configured lists `istv-assault-method` and `istv-assault-location-type` when it has them.

ISTV shares where the assault happened, never where the patient lives: the location is the incident postcode;
attendances without one stay unlocated. A postcode written in the free text is scrubbed, never used as the
location (it may be the patient's own). The extract's
date of birth becomes an age band at the assault date; NHS numbers and dates of birth are never published.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time

from pydantic import Field, field_validator, model_validator

from producers.feed import Feed, SourceContext
from producers.feeds.record_fields import Month, SourceRecord, age_band_at
from producers.feeds.row_values import full_postcode
from sharing_protocols.datasets.istv_ae import DATASET, SPEC
from sharing_protocols.envelope import EventEnvelope

CATEGORY = "assault"
METHOD_LIST = "istv-assault-method"
LOCATION_TYPE_LIST = "istv-assault-location-type"

# Element names of the XML extract and column names of the CSV extract (the same names).
COLUMNS = (
    "ReportingPeriod",
    "SiteCode",
    "AttendanceId",
    "ArrivalDate",
    "ArrivalTime",
    "AssaultDate",
    "AssaultTime",
    "AssaultMethod",
    "AssaultLocationType",
    "AssaultMethodDescription",
    "AssaultLocationDescription",
    "IncidentPostcode",
    "DateOfBirth",
    "Sex",
)
IDENTIFIERS = ("DateOfBirth", "NhsNumber")  # NhsNumber: in some extracts; never read
XML_RECORD = "Attendance"

# NHS Data Dictionary PERSON STATED GENDER CODE.
SEX: dict[str, str] = {"1": "male", "2": "female", "9": "indeterminate", "X": "not-known"}

_SITE = re.compile(r"^[A-Z0-9]{5}$")  # an ODS site code, e.g. RXC01
_CODE = re.compile(r"^[A-Za-z0-9]{1,10}$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/_-]{0,63}$")


class IstvAeRow(SourceRecord):
    """One attendance record of an ISTV extract."""

    reporting_period: Month = Field(alias="ReportingPeriod")
    site_code: str = Field(alias="SiteCode")
    attendance_id: str = Field(alias="AttendanceId")
    arrival_date: date = Field(alias="ArrivalDate")
    arrival_time: time | None = Field(default=None, alias="ArrivalTime")
    assault_date: date | None = Field(default=None, alias="AssaultDate")
    assault_time: time | None = Field(default=None, alias="AssaultTime")
    assault_method: str | None = Field(default=None, alias="AssaultMethod")
    assault_location_type: str | None = Field(default=None, alias="AssaultLocationType")
    method_description: str | None = Field(default=None, alias="AssaultMethodDescription")
    location_description: str | None = Field(default=None, alias="AssaultLocationDescription")
    incident_postcode: str | None = Field(default=None, alias="IncidentPostcode")
    date_of_birth: date | None = Field(default=None, alias="DateOfBirth")
    sex: str | None = Field(default=None, alias="Sex")

    blank_is_none = (
        "arrival_time",
        "assault_date",
        "assault_time",
        "assault_method",
        "assault_location_type",
        "method_description",
        "location_description",
        "incident_postcode",
        "date_of_birth",
        "sex",
    )

    @field_validator("site_code")
    @classmethod
    def _site(cls, value: str) -> str:
        if not _SITE.match(value):
            raise ValueError("must be a 5-character ODS site code")
        return value

    @field_validator("attendance_id")
    @classmethod
    def _attendance(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("must be the ED's attendance identifier (letters, digits, / _ -, up to 64)")
        return value

    @field_validator("assault_method", "assault_location_type")
    @classmethod
    def _code(cls, value: str | None) -> str | None:
        if value is not None and not _CODE.match(value):
            raise ValueError("must be a code of up to 10 letters or digits")
        return value

    @field_validator("incident_postcode")
    @classmethod
    def _postcode(cls, value: str | None) -> str | None:
        if value is None:
            return None
        normalised = full_postcode(value)
        if normalised is None or normalised.replace(" ", "") != "".join(value.split()).upper():
            raise ValueError("must be a full UK postcode")
        return normalised

    @field_validator("sex")
    @classmethod
    def _sex(cls, value: str | None) -> str | None:
        if value is not None and value.upper() not in SEX:
            raise ValueError("must be a PERSON STATED GENDER CODE (1, 2, 9 or X)")
        return None if value is None else value.upper()

    @model_validator(mode="after")
    def _dates_in_order(self) -> IstvAeRow:
        if self.assault_time is not None and self.assault_date is None:
            raise ValueError("AssaultTime is given without AssaultDate")
        if self.assault_date is not None and self.assault_date > self.arrival_date:
            raise ValueError("AssaultDate is after ArrivalDate")
        if self.date_of_birth is not None and self.date_of_birth > self.arrival_date:
            raise ValueError("DateOfBirth is after ArrivalDate")
        return self

    @property
    def incident_day(self) -> date:
        """The day of the assault, or of arrival where the assault date was not recorded."""
        return self.assault_date or self.arrival_date


def source_key(row: IstvAeRow) -> str:
    """The ED's attendance id, qualified by the site (ids are unique within a site's system)."""
    return f"{row.site_code}:{row.attendance_id}"


def _hour(day: date | None, at: time | None) -> int | None:
    return None if day is None or at is None else datetime.combine(day, at).hour


def to_envelope(row: IstvAeRow, ctx: SourceContext) -> EventEnvelope:
    """The event for one attendance: the assault's day, its incident location if known, codes and scrubbed text."""
    postcode = row.incident_postcode
    day = row.incident_day
    return EventEnvelope.model_validate(
        {
            "event_id": ctx.event_id,
            "dataset": DATASET,
            "partner": ctx.partner,
            "schema_version": SPEC.schema_version,
            "occurred": {"start": day, "end": day, "precision": "day"},
            "location": None if postcode is None else {"kind": "postcode", "postcode": postcode},
            "category": CATEGORY,
            "attributes": {
                "site_code": row.site_code,
                "reporting_period": row.reporting_period,
                "assault_method": ctx.coded(METHOD_LIST, "AssaultMethod", row.assault_method),
                "assault_location_type": ctx.coded(
                    LOCATION_TYPE_LIST, "AssaultLocationType", row.assault_location_type
                ),
                "method_description": ctx.free_text(row.method_description, "vocabulary"),
                "location_description": ctx.free_text(row.location_description, "vocabulary"),
                "age_band": age_band_at(row.date_of_birth, day, "DateOfBirth"),
                "sex": None if row.sex is None else SEX[row.sex],
                "arrival_hour": _hour(row.arrival_date, row.arrival_time),
                "assault_hour": _hour(row.assault_date, row.assault_time),
            },
        }
    )


FEED = Feed(
    dropped=("NhsNumber",),
    spec=SPEC,
    default_partner="istv-ae-eastbourne-dgh",
    row_model=IstvAeRow,
    columns=COLUMNS,
    to_envelope=to_envelope,
    source_key=source_key,
    identifiers=IDENTIFIERS,
    formats=("csv", "xml"),
    xml_record=XML_RECORD,
)
