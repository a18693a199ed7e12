"""Aggregate returns: counts a service already aggregates by district and month or quarter (e.g. drug and alcohol
treatment numbers), one measure per row. Counts of 0 are valid and published."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from producers.feed import Feed, SourceContext
from producers.feeds.record_fields import SourceRecord
from producers.feeds.row_values import check_period, period
from sharing_protocols.datasets.aggregate_returns import DATASET, SPEC
from sharing_protocols.envelope import SLUG, EventEnvelope

COLUMNS = ("Area Code", "Period", "Measure", "Count")

_LAD = re.compile(r"^[EW]0[6-9]\d{6}$")  # a local authority district (E06-E09 England, W06 Wales)
_SLUG = re.compile(SLUG)


class AggregateReturnRow(SourceRecord):
    """One count of a return: a measure in a district, in a month (YYYY-MM) or calendar quarter (YYYY-Qn)."""

    area_code: str = Field(alias="Area Code")
    period: str = Field(alias="Period")
    measure: str = Field(alias="Measure")
    count: int = Field(alias="Count", ge=0)

    @field_validator("area_code")
    @classmethod
    def _area(cls, value: str) -> str:
        if not _LAD.match(value.upper()):
            raise ValueError("must be an ONS local authority district code such as E07000061")
        return value.upper()

    @field_validator("period")
    @classmethod
    def _period(cls, value: str) -> str:
        return check_period(value)

    @field_validator("measure")
    @classmethod
    def _measure(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError("must be a lower-case slug such as in-treatment-opiate")
        return value


def source_key(row: AggregateReturnRow) -> str:
    """One count per district, period and measure: a resubmitted return replaces the earlier count."""
    return f"{row.area_code}|{row.period}|{row.measure}"


def to_envelope(row: AggregateReturnRow, ctx: SourceContext) -> EventEnvelope:
    """The aggregate event for one count; its category is the measure."""
    return EventEnvelope.model_validate(
        {
            "event_id": ctx.event_id,
            "dataset": DATASET,
            "partner": ctx.partner,
            "schema_version": SPEC.schema_version,
            "occurred": period(row.period),
            "location": {"kind": "area", "level": "lad", "code": row.area_code},
            "category": row.measure,
            "attributes": {"measure": row.measure, "count": row.count, "reporting_period": row.period},
        }
    )


FEED = Feed(
    spec=SPEC,
    default_partner="east-sussex-dast",
    row_model=AggregateReturnRow,
    columns=COLUMNS,
    to_envelope=to_envelope,
    source_key=source_key,
)
