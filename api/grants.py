"""Which of a caller's protocol clauses answer an aggregate query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import cast

from api.errors import NoGrant
from sharing_protocols.decision import Grant, ProtocolRegister
from sharing_protocols.precision import SpatialPrecision, derivable
from sharing_protocols.protocol import ScopeLevel
from warehouse.queries.scope import ScopeFilter


@dataclass(frozen=True)
class QueryGrant:
    """The clauses a query is answered under (events justified by any of them are counted)."""

    grants: tuple[Grant, ...]
    scopes: tuple[ScopeFilter, ...] = ()  # the caller's area under each scoped clause

    @property
    def refs(self) -> list[str]:
        return [str(g.ref) for g in self.grants]


def scope_filters(grants: Sequence[Grant], recipient: str) -> tuple[ScopeFilter, ...]:
    """The areas `recipient` sees under each of `grants` that has a geographic scope (one filter per scope)."""
    by_scope: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for grant in grants:
        found = grant.protocol.scope_areas(grant.clause, recipient)
        if found is not None:
            level, codes = found
            by_scope.setdefault((level, tuple(sorted(codes))), []).append(str(grant.ref))
    return tuple(
        ScopeFilter(tuple(dict.fromkeys(refs)), cast(ScopeLevel, level), codes)
        for (level, codes), refs in sorted(by_scope.items())
    )


def _permits(grant: Grant, level: SpatialPrecision, by_category: bool) -> bool:
    clause = grant.clause
    return (
        "location" in clause.fields
        and "period" in clause.fields
        and clause.spatial_precision is not None
        and derivable(clause.spatial_precision, level)
        and (not by_category or "category" in clause.fields)
    )


def grant_for_counts(
    register: ProtocolRegister, recipient: str, dataset: str, level: SpatialPrecision, by_category: bool, today: date
) -> QueryGrant:
    """The caller's clauses that allow counts of `dataset` at `level` (with the caller's area under those that have
    a geographic scope), or NoGrant saying why not."""
    grants = register.clauses_for(recipient, today, dataset)
    if not grants:
        raise NoGrant(f"no protocol in force grants {recipient!r} access to {dataset!r}")
    permitting = tuple(g for g in grants if _permits(g, level, by_category))
    if not permitting:
        allowed = sorted({str(g.clause.spatial_precision) for g in grants})
        raise NoGrant(
            f"the protocols in force let {recipient!r} see {dataset!r} only at {', '.join(allowed)} precision"
            + (" and perhaps without categories" if by_category else "")
        )
    return QueryGrant(permitting, scope_filters(permitting, recipient))
