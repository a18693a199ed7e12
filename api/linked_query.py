"""What the endpoints that link records by pseudonym (repeats, cohorts) share: the clauses that allow the linking,
the disclosure rule, the protected table of counts split into parts, and percentages from released counts.

A linked measure is answered only under the caller's clauses that grant counts of the dataset at the level (see
`api.grants.grant_for_counts`) and also list every field the measure reads, allow pseudonym linkage and, where
days are compared, release the day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.orm import Session

from api.aggregate_query import PRECISION, disclosure_rule, recipient
from api.caller import PUBLIC, Caller
from api.errors import NoGrant
from api.grants import grant_for_counts, scope_filters
from sharing_protocols.decision import Grant, ProtocolRegister
from sharing_protocols.disclosure import Key, ProtectedTable, Rule, protect
from sharing_protocols.figure_rule import threshold_only
from warehouse.queries.aggregates import Level
from warehouse.queries.scope import ScopeFilter

_DAY = ("day", "timestamp")


@dataclass(frozen=True)
class LinkedGrant:
    """The clauses a linked measure is answered under, and the disclosure rule of their figures."""

    refs: list[str]
    rule: Rule
    scopes: tuple[ScopeFilter, ...] = ()  # the caller's area under each scoped clause


def _missing(grant: Grant, fields: Sequence[str], days: bool) -> list[str]:
    clause = grant.clause
    missing = [f"field {name}" for name in fields if name not in clause.fields]
    if not clause.pseudonym_linkage:
        missing.append("pseudonym_linkage")
    if days and clause.temporal_precision not in _DAY:
        missing.append("day precision")
    return missing


def linked_grant(
    session: Session,
    register: ProtocolRegister,
    caller: Caller,
    dataset: str,
    level: Level,
    fields: Sequence[str],
    days: bool = False,
) -> LinkedGrant:
    """The caller's clauses allowing `dataset` at `level` to be linked on `fields`, and the rule of the figures (as
    every endpoint chooses it: `api.aggregate_query.disclosure_rule` over these clauses, a cell_key rule as the
    NHS rule it carries: linked counts have no cell keys); NoGrant naming what is missing."""
    org = recipient(caller)
    today = datetime.now(UTC).date()
    grants = grant_for_counts(register, org, dataset, PRECISION[level], False, today).grants
    fitting = [g for g in grants if not _missing(g, fields, days)]
    if not fitting:
        reasons = "; ".join(f"{g.ref} lacks {', '.join(_missing(g, fields, days))}" for g in grants)
        raise NoGrant(f"no protocol in force lets {org!r} link {dataset!r} records for this measure: {reasons}")
    refs = list(dict.fromkeys(str(g.ref) for g in fitting))
    scopes = scope_filters(fitting, org)
    rule = disclosure_rule(session, fitting, (dataset,), scopes, public=org == PUBLIC)
    return LinkedGrant(refs, threshold_only(rule), scopes)


@dataclass(frozen=True)
class Parts:
    """A protected table of rows each split into disjoint parts: a row's total is its margin, a part its cell."""

    table: ProtectedTable
    kinds: tuple[str, ...]

    def total(self, row: int) -> int | None:
        """The row's released total (the sum of its parts), None when suppressed."""
        return self.table.margins[0][str(row)]

    def part(self, row: int, kind: str) -> int | None:
        """One released part of a row, None when suppressed."""
        return self.table.cells[(str(row), kind)]

    def overall(self, kind: str | None = None) -> int | None:
        """The released total of one part over every row, or (no kind) the grand total."""
        if kind is None:
            return self.table.total
        return self.table.margins[1].get(kind, 0)


def protect_parts(rows: Sequence[Mapping[str, int]], kinds: Sequence[str], rule: Rule) -> Parts:
    """Rows of disjoint parts (e.g. repeat and first incidents) as a table (row, part) protected under `rule`.

    Row totals are the table's margins, so a suppressed part cannot be worked out from its row's total and the
    other parts: secondary suppression sees them all, even the parts that are never shown.
    """
    cells: dict[Key, int] = {(str(i), kind): int(row.get(kind, 0)) for i, row in enumerate(rows) for kind in kinds}
    return Parts(protect(cells, rule, 2), tuple(kinds))


def percent(numerator: int | Decimal | None, denominator: int | Decimal | None) -> float | None:
    """numerator / denominator x 100 to 2 decimal places (halves up); None when either is suppressed or 0 is
    divided by."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    value = Decimal(numerator) * 100 / Decimal(denominator)
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
