"""Probation and Integrated Offender Management (IOM) cohorts: one row per offender per cohort period."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from producers.feed import Feed, SourceContext
from producers.feeds.record_fields import (
    Flag,
    MaybePostcode,
    SourceRecord,
    UkDate,
    age_band_at,
    days_period,
    person_pseudonym,
)
from producers.feeds.row_values import slug
from sharing_protocols.datasets.probation_iom import DATASET, SPEC
from sharing_protocols.envelope import EventEnvelope, PostcodeLocation

COLUMNS = (
    "Offender Surname",
    "Offender Forename",
    "Offender DOB",
    "PNC ID",
    "Home Postcode",
    "Cohort Period Start",
    "Cohort Period End",
    "Cohort",
    "Reoffended",
    "Predicted Reoffending Rate",
    "Offences Count",
)
IDENTIFIERS = ("Offender Surname", "Offender Forename", "Offender DOB", "PNC ID")
COHORTS = ("iom-fixed", "iom-flex", "general")


class ProbationIomRow(SourceRecord):
    """One offender in one cohort period of a probation / IOM cohort export."""

    offender_surname: str = Field(alias="Offender Surname", min_length=1)
    offender_forename: str = Field(alias="Offender Forename", min_length=1)
    offender_dob: UkDate = Field(alias="Offender DOB")
    pnc_id: str = Field(alias="PNC ID", min_length=1, max_length=20)
    home_postcode: MaybePostcode = Field(default=None, alias="Home Postcode")
    period_start: UkDate = Field(alias="Cohort Period Start")
    period_end: UkDate = Field(alias="Cohort Period End")
    cohort: str = Field(alias="Cohort")
    reoffended: Flag = Field(alias="Reoffended")
    predicted_rate: float = Field(alias="Predicted Reoffending Rate", ge=0, le=1)
    offences_count: int = Field(alias="Offences Count", ge=0)

    @field_validator("pnc_id")
    @classmethod
    def _pnc_id(cls, value: str) -> str:
        return "".join(value.split()).upper()  # the record's key only: never published, so not checked further

    @field_validator("cohort")
    @classmethod
    def _cohort(cls, value: str) -> str:
        cohort = slug(value)
        if cohort not in COHORTS:
            raise ValueError(f"must be one of {', '.join(COHORTS)}")
        return cohort

    @model_validator(mode="after")
    def _consistent(self) -> ProbationIomRow:
        if self.period_end < self.period_start:
            raise ValueError("Cohort Period End is before Cohort Period Start")
        if self.reoffended != (self.offences_count > 0):
            raise ValueError("Reoffended must be Y exactly when Offences Count (proven reoffences) is above 0")
        return self


def source_key(row: ProbationIomRow) -> str:
    """The offender's PNC id and the cohort period's first day (one record per offender per period)."""
    return f"{row.pnc_id}:{row.period_start.isoformat()}"


def to_envelope(row: ProbationIomRow, ctx: SourceContext) -> EventEnvelope:
    """The event for one offender-period: the period, home postcode, cohort, outcome and offender pseudonym."""
    band = age_band_at(row.offender_dob, row.period_start, "Offender DOB")
    return EventEnvelope.model_validate(
        {
            "event_id": ctx.event_id,
            "dataset": DATASET,
            "partner": ctx.partner,
            "schema_version": SPEC.schema_version,
            "occurred": days_period(row.period_start, row.period_end),
            "location": PostcodeLocation(postcode=row.home_postcode) if row.home_postcode else None,
            "category": row.cohort,
            "attributes": {
                "offender_pseudonym": person_pseudonym(
                    ctx, "offender_pseudonym", row.offender_surname, row.offender_forename, row.offender_dob
                ),
                "offender_age_band": band,
                "reoffended": row.reoffended,
                "predicted_reoffending_rate": row.predicted_rate,
                "offences_count": row.offences_count,
            },
        }
    )


FEED = Feed(
    dropped=("NHS Number",),
    spec=SPEC,
    default_partner="kss-probation",
    row_model=ProbationIomRow,
    columns=COLUMNS,
    to_envelope=to_envelope,
    source_key=source_key,
    identifiers=IDENTIFIERS,
)
