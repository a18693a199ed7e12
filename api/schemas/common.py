"""Response schemas shared by the area tables: the disclosure member and the keys of an area-period row."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from sharing_protocols.disclosure import ProtectedTable
from warehouse.queries.aggregates import Level
from warehouse.queries.scope import ScopeFilter


class ScopeOut(BaseModel):
    """Figures from these clauses count only events inside these areas (the caller's geographic scope)."""

    clauses: list[str]
    level: str
    codes: list[str]


class DisclosureOut(BaseModel):
    """The disclosure rule the figures were released under, and how many were suppressed."""

    rule: str
    source: str
    min_cell_count: int
    round_to: int
    clauses: list[str]
    suppressed: int
    scope: list[ScopeOut] = []  # the areas the figures are limited to, under clauses with a geographic scope
    withheld: list[str] = []  # figures the differencing guard withheld, and why (sharing_protocols.differencing)


class AreaTableResponse(BaseModel):
    """What every area-table response opens with: the query as answered, its clauses and disclosure."""

    datasets: list[str]
    level: Level
    period_type: str
    periods: list[str]
    protocols: list[str]
    disclosure: DisclosureOut


class AreaPeriodOut(BaseModel):
    """The keys of one row of an area table."""

    area_code: str
    area_name: str
    category: str | None = None
    dataset: str | None = None
    period: str


class UnlocatedOut(BaseModel):
    reason: str
    category: str | None = None
    dataset: str | None = None
    period: str
    count: int | None


def disclosure_out(
    table: ProtectedTable, extra_suppressed: int = 0, scopes: Sequence[ScopeFilter] = ()
) -> DisclosureOut:
    rule = table.rule
    return DisclosureOut(
        rule=rule.describe(),
        source=rule.source,
        min_cell_count=rule.min_cell_count,
        round_to=rule.round_to,
        clauses=list(rule.clauses),
        suppressed=table.primary + table.secondary + extra_suppressed,
        scope=[ScopeOut(clauses=list(s.refs), level=s.level, codes=list(s.codes)) for s in scopes],
    )
