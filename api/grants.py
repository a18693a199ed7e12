"""Which of a caller's protocol clauses answer an aggregate query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from api.errors import NoGrant
from sharing_protocols.decision import Grant, ProtocolRegister
from sharing_protocols.precision import SpatialPrecision, derivable


@dataclass(frozen=True)
class QueryGrant:
    """The clauses a query is answered under (events justified by any of them are counted)."""

    grants: tuple[Grant, ...]

    @property
    def refs(self) -> list[str]:
        return [str(g.ref) for g in self.grants]


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
    """The caller's clauses that allow counts of `dataset` at `level`, or NoGrant saying why not."""
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
    return QueryGrant(permitting)
