"""Hospital admissions counts from the NHS for CSPs (Crime and Disorder Act 1998 s17A health return).

Counts of admissions by postcode outward code (e.g. BN21), ICD-10 code or block (e.g. X85-Y09 assault, T51 toxic
effect of alcohol) and calendar quarter. Already aggregated and depersonalised by the ICB; the ICD-10 codes are
checked for their shape only (the hub holds no ICD-10 code list).
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from producers.feed import Feed, SourceContext
from producers.feeds.record_fields import SourceRecord
from producers.feeds.row_values import outward_code, period
from sharing_protocols.datasets.health_admissions import DATASET, SPEC
from sharing_protocols.envelope import EventEnvelope

MEASURE = "admissions"

COLUMNS = ("Outward Code", "ICD10 Block", "Quarter", "Admissions")

_ICD10 = re.compile(r"^([A-Z])(\d{2})(?:\.\d{1,2})?(?:-([A-Z])(\d{2})(?:\.\d{1,2})?)?$")
_QUARTER = re.compile(r"^\d{4}-Q[1-4]$")


class HealthAdmissionsRow(SourceRecord):
    """One count of the return: admissions in an outward code, for an ICD-10 block, in a quarter."""

    outward_code: str = Field(alias="Outward Code")
    icd10_block: str = Field(alias="ICD10 Block")
    quarter: str = Field(alias="Quarter")
    admissions: int = Field(alias="Admissions", ge=0)

    @field_validator("outward_code")
    @classmethod
    def _outward(cls, value: str) -> str:
        return outward_code(value)

    @field_validator("icd10_block")
    @classmethod
    def _block(cls, value: str) -> str:
        block = "".join(value.split()).upper()
        match = _ICD10.match(block)
        if not match:
            raise ValueError("must be an ICD-10 code or block such as T51 or X85-Y09")
        if match.group(3) is not None and (match.group(3), match.group(4)) < (match.group(1), match.group(2)):
            raise ValueError("is a block whose last code comes before its first")
        return block

    @field_validator("quarter")
    @classmethod
    def _quarter(cls, value: str) -> str:
        if not _QUARTER.match(value):
            raise ValueError("must be a calendar quarter as YYYY-Qn")
        return value


def source_key(row: HealthAdmissionsRow) -> str:
    """One count per outward code, block and quarter: a resubmitted return replaces the earlier count."""
    return f"{row.outward_code}|{row.icd10_block}|{row.quarter}"


def category(block: str) -> str:
    """The event category of an ICD-10 block: its slug ('X85-Y09' -> 'x85-y09', 'F10.2' -> 'f10-2')."""
    return block.lower().replace(".", "-")


def to_envelope(row: HealthAdmissionsRow, ctx: SourceContext) -> EventEnvelope:
    """The aggregate event for one count: the quarter (first to last day), the outward code, the count."""
    return EventEnvelope.model_validate(
        {
            "event_id": ctx.event_id,
            "dataset": DATASET,
            "partner": ctx.partner,
            "schema_version": SPEC.schema_version,
            "occurred": period(row.quarter),
            "location": {"kind": "postcode", "postcode": row.outward_code},
            "category": category(row.icd10_block),
            "attributes": {
                "measure": MEASURE,
                "count": row.admissions,
                "icd10_block": row.icd10_block,
                "quarter": row.quarter,
            },
        }
    )


FEED = Feed(
    spec=SPEC,
    default_partner="nhs-sussex-icb",
    row_model=HealthAdmissionsRow,
    columns=COLUMNS,
    to_envelope=to_envelope,
    source_key=source_key,
)
