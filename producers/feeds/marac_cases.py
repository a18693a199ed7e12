"""Multi-Agency Risk Assessment Conference (MARAC) case lists: one row per case heard at a MARAC meeting."""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import Field, field_validator, model_validator

from producers.feed import Feed, SourceContext
from producers.feeds.record_fields import (
    Flag,
    MaybePostcode,
    MaybeUkDate,
    SourceRecord,
    UkDate,
    age_band_at,
    day_period,
    person_pseudonym,
)
from producers.feeds.row_values import slug
from sharing_protocols.datasets.marac_cases import DATASET, SPEC
from sharing_protocols.envelope import EventEnvelope, PostcodeLocation

IDENTIFIERS = (
    "Victim Surname",
    "Victim Forename",
    "Victim DOB",
    "Perpetrator Surname",
    "Perpetrator Forename",
    "Perpetrator DOB",
    "Second Perpetrator Surname",
    "Second Perpetrator Forename",
    "Second Perpetrator DOB",
)
COLUMNS = (
    "Case ID",
    "MARAC Area",
    "Referral Date",
    "Review Date",
    "Referring Agency",
    *IDENTIFIERS,
    "Risk Level",
    "Information Only",
    "Repeat",
)
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class MaracCaseRow(SourceRecord):
    """One case of a MARAC case list export."""

    case_id: str = Field(alias="Case ID", min_length=1, max_length=40)
    marac_area: str = Field(alias="MARAC Area")
    referral_date: UkDate = Field(alias="Referral Date")
    review_date: UkDate = Field(alias="Review Date")
    referring_agency: str = Field(alias="Referring Agency", min_length=1, max_length=60)
    victim_surname: str = Field(alias="Victim Surname", min_length=1)
    victim_forename: str = Field(alias="Victim Forename", min_length=1)
    victim_dob: UkDate = Field(alias="Victim DOB")
    victim_postcode: MaybePostcode = Field(default=None, alias="Victim Postcode")
    perpetrator_surname: str | None = Field(default=None, alias="Perpetrator Surname")
    perpetrator_forename: str | None = Field(default=None, alias="Perpetrator Forename")
    perpetrator_dob: MaybeUkDate = Field(default=None, alias="Perpetrator DOB")
    second_surname: str | None = Field(default=None, alias="Second Perpetrator Surname")
    second_forename: str | None = Field(default=None, alias="Second Perpetrator Forename")
    second_dob: MaybeUkDate = Field(default=None, alias="Second Perpetrator DOB")
    risk_level: Literal["high", "medium", "standard"] = Field(alias="Risk Level")
    information_only: Flag = Field(alias="Information Only")
    repeat: Flag = Field(alias="Repeat")

    blank_is_none = ("perpetrator_surname", "perpetrator_forename", "second_surname", "second_forename")

    @field_validator("marac_area")
    @classmethod
    def _area(cls, value: str) -> str:
        area = slug(value)
        if not _SLUG.match(area):
            raise ValueError("must name a MARAC area (letters, digits, spaces or hyphens)")
        return area

    @field_validator("risk_level", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _consistent(self) -> MaracCaseRow:
        if self.review_date < self.referral_date:
            raise ValueError("Review Date is before Referral Date")
        for prefix, person in (("Perpetrator", self._first()), ("Second Perpetrator", self._second())):
            if any(person) and not all(person):
                raise ValueError(f"{prefix} Surname, Forename and DOB must be given together")
        if any(self._second()) and not any(self._first()):
            raise ValueError("Second Perpetrator is given without a Perpetrator")
        return self

    def _first(self) -> tuple[str | None, str | None, date | None]:
        return self.perpetrator_surname, self.perpetrator_forename, self.perpetrator_dob

    def _second(self) -> tuple[str | None, str | None, date | None]:
        return self.second_surname, self.second_forename, self.second_dob

    def perpetrators(self) -> list[tuple[str, str, date]]:
        """Each perpetrator's surname, forename and date of birth (the first is the main perpetrator)."""
        listed = (self._first(), self._second())
        return [(surname, forename, born) for surname, forename, born in listed if surname and forename and born]


def source_key(row: MaracCaseRow) -> str:
    """The MARAC's case id."""
    return row.case_id


def to_envelope(row: MaracCaseRow, ctx: SourceContext) -> EventEnvelope:
    """The event for one case: the meeting day, the victim's postcode, pseudonyms of victim and perpetrator."""
    perpetrators = row.perpetrators()
    main = perpetrators[0] if perpetrators else None
    return EventEnvelope.model_validate(
        {
            "event_id": ctx.event_id,
            "dataset": DATASET,
            "partner": ctx.partner,
            "schema_version": SPEC.schema_version,
            "occurred": day_period(row.review_date),
            "location": PostcodeLocation(postcode=row.victim_postcode) if row.victim_postcode else None,
            "category": "information-only" if row.information_only else "referral",
            "attributes": {
                "marac_area": row.marac_area,
                "referring_agency": slug(row.referring_agency),
                "days_referral_to_review": (row.review_date - row.referral_date).days,
                "victim_pseudonym": person_pseudonym(
                    ctx, "victim_pseudonym", row.victim_surname, row.victim_forename, row.victim_dob
                ),
                "victim_age_band": age_band_at(row.victim_dob, row.review_date, "Victim DOB"),
                "perpetrator_pseudonym": person_pseudonym(ctx, "perpetrator_pseudonym", *main) if main else None,
                "perpetrator_age_band": age_band_at(main[2], row.review_date, "Perpetrator DOB") if main else None,
                "perpetrator_count": len(perpetrators),
                "risk_level": row.risk_level,
                "information_only": row.information_only,
                "repeat_recorded": row.repeat,
            },
        }
    )


FEED = Feed(
    dropped=("Victim NHS Number", "Victim Phone", "Victim Postcode"),
    spec=SPEC,
    default_partner="east-sussex-marac",
    row_model=MaracCaseRow,
    columns=COLUMNS,
    to_envelope=to_envelope,
    source_key=source_key,
    identifiers=IDENTIFIERS,
)
