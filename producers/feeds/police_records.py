"""Police recorded crime and incidents, record by record, as a force's records system exports them (CSV)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from pydantic import Field, field_validator, model_validator

from producers.feed import Feed, SourceContext
from producers.feeds.record_fields import (
    Flag,
    MaybeUkDate,
    MaybeUkDateTime,
    PlaceColumns,
    UkDate,
    UkDateTime,
    age_band_at,
    days_period,
    person_pseudonym,
)
from producers.feeds.row_values import slug
from sharing_protocols.datasets.police_records import DATASET, SPEC
from sharing_protocols.datasets.police_uk_street import CATEGORIES as POLICE_UK_CATEGORIES
from sharing_protocols.envelope import EventEnvelope

COLUMNS = (
    "Record Type",
    "Crime Reference",
    "Incident Reference",
    "Recorded Date",
    "Occurred From",
    "Occurred To",
    "Home Office Offence Code",
    "Police.uk Category",
    "Incident Type",
    "Domestic Abuse Flag",
    "Hate Crime Flag",
    "Hate Strand",
    "Alcohol Related Flag",
    "Easting",
    "Northing",
    "Postcode",
    "Location Description",
    "Victim Surname",
    "Victim Forename",
    "Victim DOB",
    "Outcome",
    "Crime Status",
    "MO Summary",
)
IDENTIFIERS = ("Victim Surname", "Victim Forename", "Victim DOB")

# The Home Office offence codes by ONS offence group and subgroup, from the Home Office Counting Rules offence
# classification as ONS published it (2018 draft hierarchy, ONSdigital/dp-hierarchy-builder; Open Government
# Licence v3.0), with the police.uk category each subgroup is published under (None: not on police.uk).
_CLASSIFICATION: tuple[tuple[str, str, str | None, str], ...] = (
    ("Criminal damage and arson", "Arson", "criminal-damage-arson", "56A 56B"),
    ("Criminal damage and arson", "Criminal damage", "criminal-damage-arson", "58A 58B 58C 58D 58J"),
    ("Drug offences", "Possession of drugs", "drugs", "92C 92D 92E"),
    ("Drug offences", "Trafficking of drugs", "drugs", "92A"),
    ("Fraud offences", "Fraud offences to 2012/13", None, "51 52 53B 53C 53D 53E 53F 55"),
    (
        "Miscellaneous crimes against society",
        "Miscellaneous crimes against society",
        "other-crime",
        "15 24 26 27 33 33A 38 54 59 60 61 61A 67 69 76 79 80 802 814 83 86 95 96 99",
    ),
    (
        "Possession of weapons offences",
        "Possession of weapons offences",
        "possession-of-weapons",
        "10A 10B 10C 10D 81 90",
    ),
    ("Public order offences", "Public order offences", "public-order", "62A 66 9A 9B"),
    ("Robbery", "Robbery of business property", "robbery", "34A"),
    ("Robbery", "Robbery of personal property", "robbery", "34B"),
    (
        "Sexual offences",
        "Other sexual offences",
        "violent-crime",
        "17A 17B 20A 20B 21 22A 22B 23 70 71 72 73 88A 88C 88D 88E",
    ),
    ("Sexual offences", "Rape", "violent-crime", "19C 19D 19E 19F 19G 19H"),
    ("Theft offences", "Bicycle theft", "bicycle-theft", "44"),
    ("Theft offences", "Domestic burglary", "burglary", "28A 28B 28C 28D 28E 28F 28G 28H 29 29A"),
    ("Theft offences", "Non-domestic burglary", "burglary", "30A 30B 30C 30D 31 31A"),
    ("Theft offences", "Other theft offences", "other-theft", "35 40 41 42 43 47 49 49A"),
    ("Theft offences", "Shoplifting", "shoplifting", "46"),
    ("Theft offences", "Theft from a vehicle", "vehicle-crime", "45"),
    ("Theft offences", "Theft from the person", "theft-from-the-person", "39"),
    ("Theft offences", "Theft of a motor vehicle", "vehicle-crime", "37.2 48"),
    ("Theft offences", "Vehicle interference", "vehicle-crime", "126"),
    ("Violence against the person", "Harassment", "violent-crime", "8L 8R"),
    ("Violence against the person", "Homicide", "violent-crime", "1 4.1 4.10 4.2"),
    (
        "Violence against the person",
        "Violence with injury",
        "violent-crime",
        "2 37.1 4.3 4.4 4.6 4.7 4.8 4.9 5D 5E 8N 8P 8S",
    ),
    (
        "Violence against the person",
        "Violence without injury",
        "violent-crime",
        "104 105A 105B 106 11A 13 14 36 3A 3B 8M 8Q",
    ),
)


@dataclass(frozen=True)
class Offence:
    """Where a Home Office offence code sits: ONS group and subgroup (as slugs) and its police.uk category."""

    group: str
    subgroup: str
    police_uk: str | None


OFFENCES: dict[str, Offence] = {
    code: Offence(slug(group), slug(subgroup), police_uk)
    for group, subgroup, police_uk, codes in _CLASSIFICATION
    for code in codes.split()
}
HATE_STRANDS = ("race", "religion", "sexual orientation", "disability", "transgender")
CRIME_STATUSES = {"recorded": "recorded", "cancelled": "cancelled", "transferred": "transferred"}
_CRIME_REFERENCE = re.compile(r"^\d{11,12}$")
_POLICE_UK_SLUGS = frozenset(POLICE_UK_CATEGORIES.values())


class PoliceRecordRow(PlaceColumns):
    """One crime or incident record of a force's records export."""

    record_type: Literal["Crime", "Incident"] = Field(alias="Record Type")
    crime_reference: str | None = Field(default=None, alias="Crime Reference")
    incident_reference: str | None = Field(default=None, alias="Incident Reference", max_length=40)
    recorded_date: UkDate = Field(alias="Recorded Date")
    occurred_from: UkDateTime = Field(alias="Occurred From")
    occurred_to: MaybeUkDateTime = Field(default=None, alias="Occurred To")
    offence_code: str | None = Field(default=None, alias="Home Office Offence Code")
    police_uk_category: str | None = Field(default=None, alias="Police.uk Category")
    incident_type: str | None = Field(default=None, alias="Incident Type", max_length=60)
    domestic_abuse: Flag = Field(default=False, alias="Domestic Abuse Flag")
    hate_crime: Flag = Field(default=False, alias="Hate Crime Flag")
    hate_strand: str | None = Field(default=None, alias="Hate Strand")
    alcohol_related: Flag = Field(default=False, alias="Alcohol Related Flag")
    location_description: str | None = Field(default=None, alias="Location Description")
    victim_surname: str | None = Field(default=None, alias="Victim Surname")
    victim_forename: str | None = Field(default=None, alias="Victim Forename")
    victim_dob: MaybeUkDate = Field(default=None, alias="Victim DOB")
    outcome: str | None = Field(default=None, alias="Outcome", max_length=120)
    crime_status: str | None = Field(default=None, alias="Crime Status")
    mo_summary: str | None = Field(default=None, alias="MO Summary")

    blank_is_none = (
        "crime_reference",
        "incident_reference",
        "offence_code",
        "police_uk_category",
        "incident_type",
        "hate_strand",
        "location_description",
        "victim_surname",
        "victim_forename",
        "outcome",
        "crime_status",
        "mo_summary",
    )

    @field_validator("crime_reference")
    @classmethod
    def _crime_reference(cls, value: str | None) -> str | None:
        if value is not None and not _CRIME_REFERENCE.match(value):
            raise ValueError("must be an 11 or 12 digit crime reference")
        return value

    @field_validator("offence_code")
    @classmethod
    def _offence_code(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = value.upper()
        if code not in OFFENCES:
            raise ValueError("is not a Home Office offence code")
        return code

    @field_validator("police_uk_category")
    @classmethod
    def _police_uk_category(cls, value: str | None) -> str | None:
        if value is None:
            return None
        category = POLICE_UK_CATEGORIES.get(value, value.lower())
        if category not in _POLICE_UK_SLUGS:
            raise ValueError("is not a police.uk crime category")
        return category

    @field_validator("incident_type")
    @classmethod
    def _incident_type(cls, value: str | None) -> str | None:
        if value is not None and not slug(value):
            raise ValueError("must contain letters or digits")
        return value

    @field_validator("hate_strand")
    @classmethod
    def _hate_strand(cls, value: str | None) -> str | None:
        if value is None:
            return None
        strands = sorted({" ".join(part.lower().split()) for part in re.split(r"[;/,]", value) if part.strip()})
        if not strands or any(strand not in HATE_STRANDS for strand in strands):
            raise ValueError(f"must be one or more of {', '.join(HATE_STRANDS)} (separated by ';')")
        return ";".join(strands)

    @field_validator("crime_status")
    @classmethod
    def _crime_status(cls, value: str | None) -> str | None:
        if value is None:
            return None
        status = CRIME_STATUSES.get(value.lower())
        if status is None:
            raise ValueError("must be Recorded, Cancelled or Transferred")
        return status

    @model_validator(mode="after")
    def _consistent(self) -> PoliceRecordRow:
        if self.record_type == "Crime":
            if self.crime_reference is None:
                raise ValueError("Crime Reference is required for a crime")
            if self.offence_code is None:
                raise ValueError("Home Office Offence Code is required for a crime")
        elif self.incident_reference is None:
            raise ValueError("Incident Reference is required for an incident")
        elif self.incident_type is None:
            raise ValueError("Incident Type is required for an incident")
        if self.occurred_to is not None and self.occurred_to < self.occurred_from:
            raise ValueError("Occurred To is before Occurred From")
        if self.hate_strand is not None and not self.hate_crime:
            raise ValueError("Hate Strand is given but Hate Crime Flag is not Y")
        return self

    @property
    def occurred_on(self) -> date:
        return self.occurred_from.date()


def source_key(row: PoliceRecordRow) -> str:
    """The force's own reference: the crime reference for crimes, the incident reference for incidents."""
    if row.record_type == "Crime":
        return f"crime:{row.crime_reference}"
    return f"incident:{row.incident_reference}"


def retracted(row: PoliceRecordRow) -> bool:
    """A cancelled crime is withdrawn (it no longer counts as recorded crime)."""
    return row.record_type == "Crime" and row.crime_status == "cancelled"


def category(row: PoliceRecordRow) -> str:
    """The police.uk category of a crime (from its offence code, else as exported); incident-<type> for incidents."""
    if row.record_type == "Incident":
        return f"incident-{slug(row.incident_type or '')}"[:64].rstrip("-")
    offence = OFFENCES[row.offence_code or ""]
    return offence.police_uk or row.police_uk_category or "other-crime"


def to_envelope(row: PoliceRecordRow, ctx: SourceContext) -> EventEnvelope:
    """The event for one record: the day(s) it happened, where, its classification, flags and victim pseudonym."""
    offence = OFFENCES.get(row.offence_code or "")
    victim = None
    if row.victim_surname and row.victim_forename and row.victim_dob:
        victim = person_pseudonym(ctx, "victim_pseudonym", row.victim_surname, row.victim_forename, row.victim_dob)
    band = age_band_at(row.victim_dob, row.occurred_on, "Victim DOB")
    end = row.occurred_to.date() if row.occurred_to else row.occurred_on
    return EventEnvelope.model_validate(
        {
            "event_id": ctx.event_id,
            "dataset": DATASET,
            "partner": ctx.partner,
            "schema_version": SPEC.schema_version,
            "occurred": days_period(row.occurred_on, end),
            "location": row.location(),
            "category": category(row),
            "attributes": {
                "record_type": row.record_type.lower(),
                "offence_code": row.offence_code,
                "offence_group": offence.group if offence else None,
                "offence_subgroup": offence.subgroup if offence else None,
                "domestic_abuse": row.domestic_abuse,
                "hate_crime": row.hate_crime,
                "hate_strand": row.hate_strand,
                "alcohol_related": row.alcohol_related,
                "location_description": ctx.free_text(row.location_description, "street"),
                "victim_pseudonym": victim,
                "victim_age_band": band,
                "outcome": ctx.coded("ho_outcome_types", "Outcome", row.outcome),
                "crime_status": row.crime_status,
                "mo_summary": ctx.free_text(row.mo_summary, "vocabulary"),
                "hour": row.occurred_from.hour,
            },
        }
    )


FEED = Feed(
    dropped=("Victim Phone", "Victim Email"),
    spec=SPEC,
    default_partner="sussex-police",
    row_model=PoliceRecordRow,
    columns=COLUMNS,
    to_envelope=to_envelope,
    source_key=source_key,
    identifiers=IDENTIFIERS,
    retracted=retracted,
)
