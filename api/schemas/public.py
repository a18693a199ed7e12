"""Response schemas of GET /v1/public/datasets (public counts answer as /v1/counts)."""

from __future__ import annotations

from pydantic import BaseModel

from sharing_protocols.periods import PeriodType
from warehouse.queries.aggregates import Level


class PublicRuleOut(BaseModel):
    """The disclosure rule public figures of a dataset are released under (the fields as in `DisclosureOut`)."""

    rule: str
    source: str
    method: str = "threshold"
    table: str | None = None
    version: int | None = None
    min_cell_count: int | None
    round_to: int | None
    clauses: list[str]


class PublicDatasetOut(BaseModel):
    """A dataset the public may have counts of, at one level (months only)."""

    dataset: str
    title: str
    level: Level
    period: PeriodType
    protocols: list[str]
    disclosure: PublicRuleOut
