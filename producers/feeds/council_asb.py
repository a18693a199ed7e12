"""Council anti-social behaviour cases, recorded under the National Standard for Incident Recording (NSIR 2011)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from producers.feed import Feed, SourceContext
from producers.feeds.record_fields import (
    MaybeUkDate,
    PlaceColumns,
    UkDateTime,
    age_band_at,
    day_period,
    person_pseudonym,
)
from producers.feeds.row_values import slug
from sharing_protocols.datasets.council_asb import DATASET, SPEC
from sharing_protocols.envelope import EventEnvelope

COLUMNS = (
    "Case Reference",
    "Reported Date Time",
    "NSIR Category",
    "Incident Type",
    "Easting",
    "Northing",
    "Postcode",
    "Victim Surname",
    "Victim Forename",
    "Victim DOB",
    "Risk Tier",
    "Description",
    "Case Status",
)
IDENTIFIERS = ("Victim Surname", "Victim Forename", "Victim DOB")

# The three NSIR 2011 ASB categories (Home Office National Standard for Incident Recording, as the Metropolitan
# Police describe them on the London Datastore; Open Government Licence v3.0).
NSIR_CATEGORIES: dict[str, str] = {
    "Personal": "ASB perceived to be targeted at an individual or group, or having an impact on them.",
    "Nuisance": "ASB causing trouble, annoyance or suffering to the community at large.",
    "Environmental": "Incidents targeting the wider environment, e.g. public spaces or buildings.",
}
# The 15 ASB incident types recorded before NSIR 2011 (as listed by ukcrimestats.com; "Abandoned" spelt right).
PRE_2011_INCIDENT_TYPES: tuple[str, ...] = (
    "Abandoned Vehicles (not Stolen or causing an Obstruction)",
    "Animal problems",
    "Begging / Vagrancy",
    "Hoax calls to Emergency Services",
    "Inappropriate Sale / Use / Possession of Fireworks",
    "Malicious / Nuisance Communications",
    "Noise",
    "Prostitution Related Activity",
    "Rowdy and / or Nuisance Behaviour: Environmental Damage / Littering",
    "Rowdy and / or Nuisance Behaviour: Neighbours",
    "Rowdy or Inconsiderate Behaviour",
    "Street Drinking",
    "Solvent Misuse",
    "Trespass",
    "Vehicle Nuisance / Inappropriate Use",
)
_TYPE_SLUGS = {slug(name): slug(name) for name in PRE_2011_INCIDENT_TYPES} | {
    slug("Abandonded Vehicles (not Stolen or causing an Obstruction)"): slug(PRE_2011_INCIDENT_TYPES[0])
}
_CATEGORY = {name.lower(): name for name in NSIR_CATEGORIES}
_RISK_TIERS = ("high", "medium", "standard")
_STATUSES = ("open", "closed", "deleted")


class CouncilAsbRow(PlaceColumns):
    """One ASB case of a council's case management export."""

    case_reference: str = Field(alias="Case Reference", min_length=1, max_length=40)
    reported: UkDateTime = Field(alias="Reported Date Time")
    nsir_category: str = Field(alias="NSIR Category")
    incident_type: str | None = Field(default=None, alias="Incident Type")
    victim_surname: str | None = Field(default=None, alias="Victim Surname")
    victim_forename: str | None = Field(default=None, alias="Victim Forename")
    victim_dob: MaybeUkDate = Field(default=None, alias="Victim DOB")
    risk_tier: Literal["high", "medium", "standard"] | None = Field(default=None, alias="Risk Tier")
    description: str | None = Field(default=None, alias="Description")
    case_status: Literal["open", "closed", "deleted"] = Field(alias="Case Status")

    blank_is_none = ("incident_type", "victim_surname", "victim_forename", "risk_tier", "description")

    @field_validator("nsir_category")
    @classmethod
    def _nsir_category(cls, value: str) -> str:
        category = _CATEGORY.get(value.strip().lower())
        if category is None:
            raise ValueError("must be Personal, Nuisance or Environmental (NSIR 2011)")
        return category

    @field_validator("risk_tier", "case_status", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value


def source_key(row: CouncilAsbRow) -> str:
    """The council's case reference."""
    return row.case_reference


def retracted(row: CouncilAsbRow) -> bool:
    """A deleted case is withdrawn."""
    return row.case_status == "deleted"


def to_envelope(row: CouncilAsbRow, ctx: SourceContext) -> EventEnvelope:
    """The event for one case: the day reported, where, its NSIR category, type, risk tier and victim pseudonym."""
    day = row.reported.date()
    victim = None
    if row.victim_surname and row.victim_forename and row.victim_dob:
        victim = person_pseudonym(ctx, "victim_pseudonym", row.victim_surname, row.victim_forename, row.victim_dob)
    band = age_band_at(row.victim_dob, day, "Victim DOB")
    listed = _TYPE_SLUGS.get(slug(row.incident_type)) if row.incident_type else None
    return EventEnvelope.model_validate(
        {
            "event_id": ctx.event_id,
            "dataset": DATASET,
            "partner": ctx.partner,
            "schema_version": SPEC.schema_version,
            "occurred": day_period(day),
            "location": row.location(),
            "category": f"asb-{row.nsir_category.lower()}",
            "attributes": {
                "nsir_category": row.nsir_category.lower(),
                "incident_type": listed,
                "incident_type_text": None if listed else ctx.free_text(row.incident_type, "vocabulary"),
                "risk_tier": row.risk_tier,
                "case_status": row.case_status,
                "victim_pseudonym": victim,
                "victim_age_band": band,
                "description": ctx.free_text(row.description, "vocabulary"),
                "hour": row.reported.hour,
            },
        }
    )


FEED = Feed(
    dropped=("Complainant Phone", "Complainant Email", "Complainant Address"),
    spec=SPEC,
    default_partner="eastbourne-council",
    row_model=CouncilAsbRow,
    columns=COLUMNS,
    to_envelope=to_envelope,
    source_key=source_key,
    identifiers=IDENTIFIERS,
    retracted=retracted,
)
