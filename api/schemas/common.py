"""Response schemas shared by the area tables: the disclosure member and the keys of an area-period row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from sharing_protocols.disclosure import ProtectedTable, Rule
from warehouse.queries.aggregates import Level
from warehouse.queries.scope import ScopeFilter


class ScopeOut(BaseModel):
    """Figures from these clauses count only events inside these areas (the caller's geographic scope)."""

    clauses: list[str]
    level: str
    codes: list[str]


class DisclosureOut(BaseModel):
    """The disclosure rule the figures were released under, and how many were suppressed.

    `method` "threshold": min_cell_count and round_to say what was suppressed and rounded. `method` "cell_key":
    every count was perturbed by the perturbation table `table` at `version` (min_cell_count and round_to are
    None; nothing is suppressed, and totals are the sums of the perturbed counts).
    """

    rule: str
    source: str
    method: str = "threshold"
    table: str | None = None
    version: int | None = None
    min_cell_count: int | None
    round_to: int | None
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


def rule_members(rule: Rule) -> dict[str, Any]:
    """A rule as responses report it: its description, source, method, table id and version (cell key) or minimum
    and rounding (threshold), and clauses."""
    threshold = rule.method == "threshold"
    table_id, _, version = (rule.table or "").partition("@")
    return {
        "rule": rule.describe(),
        "source": rule.source,
        "method": rule.method,
        "table": table_id or None,
        "version": int(version) if version else None,
        "min_cell_count": rule.min_cell_count if threshold else None,
        "round_to": rule.round_to if threshold else None,
        "clauses": list(rule.clauses),
    }


def disclosure_out(
    table: ProtectedTable, extra_suppressed: int = 0, scopes: Sequence[ScopeFilter] = ()
) -> DisclosureOut:
    return DisclosureOut(
        **rule_members(table.rule),
        suppressed=table.primary + table.secondary + extra_suppressed,
        scope=[ScopeOut(clauses=list(s.refs), level=s.level, codes=list(s.codes)) for s in scopes],
    )
