"""How long the warehouse keeps each field of each dataset: the IG register's retention view.

For the protocols in force on a day, per dataset and per field (`category`, each attribute, `location:<precision>`
and `period:<precision>`, keyed as `decision.field_retention` keys them), the longest retention of the clauses that
release it and which clause(s) give it. A clause holds its spatial precision and every coarser level that precision
determines (ward -> district), and its temporal precision and every coarser one, as `field_retention` does.
Pure: the caller supplies the register and the day.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

from sharing_protocols.decision import ClauseRef, Grant, ProtocolRegister
from sharing_protocols.precision import SPATIAL_PRECISIONS, TEMPORAL_PRECISIONS, derivable, temporal_rank
from sharing_protocols.protocol import Clause, Protocol, Retention

_STANDARD = ("category", "location", "period")


@dataclass(frozen=True, slots=True)
class FieldKept:
    """One field of one dataset: its longest retention, as the protocol states it, and the clause(s) giving it.

    `keep_until` is the last day the warehouse keeps the field of an event loaded on the register's day;
    `clauses` are the clauses whose retention reaches that day, `released_by` every clause releasing the field.
    """

    dataset: str
    field: str
    retention: Retention
    keep_until: date
    clauses: tuple[ClauseRef, ...]
    released_by: tuple[ClauseRef, ...]


def clause_fields(clause: Clause) -> Iterator[str]:
    """The parts of an event one clause holds, keyed as `decision.field_retention` keys them."""
    if "category" in clause.fields:
        yield "category"
    if "location" in clause.fields and clause.spatial_precision is not None:
        yield from (f"location:{level}" for level in SPATIAL_PRECISIONS if derivable(clause.spatial_precision, level))
    if "period" in clause.fields and clause.temporal_precision is not None:
        yield from (f"period:{p}" for p in TEMPORAL_PRECISIONS[temporal_rank(clause.temporal_precision) :])
    yield from (name for name in clause.fields if name not in _STANDARD)


def _order(field: str) -> tuple[int, int, str]:
    """category, then locations finest first, then periods finest first, then attributes by name."""
    kind, _, precision = field.partition(":")
    if kind == "location" and precision in SPATIAL_PRECISIONS:
        return (1, SPATIAL_PRECISIONS.index(precision), "")
    if kind == "period" and precision in TEMPORAL_PRECISIONS:
        return (2, TEMPORAL_PRECISIONS.index(precision), "")
    return (0, 0, "") if field == "category" else (3, 0, field)


def retention_register(
    register: ProtocolRegister, on: date, include: Callable[[Protocol], bool] | None = None
) -> tuple[FieldKept, ...]:
    """Per dataset and field, the longest retention among the clauses in force on `on` that release it.

    `include` limits the protocols considered (e.g. to those an IG lead is party to). Retentions in days and in
    months are compared by the day each keeps an event loaded on `on` until; ties list every clause. Sorted by
    dataset, then category, location and period (finest first) and attributes by name.
    """
    grants: dict[tuple[str, str], list[Grant]] = {}
    for protocol in register.active_at(on):
        if include is not None and not include(protocol):
            continue
        for clause in protocol.clauses:
            for dataset in clause.datasets:
                if not protocol.providers(dataset):
                    continue  # no data owner provides it under this protocol: the clause releases nothing of it
                for name in clause_fields(clause):
                    grants.setdefault((dataset, name), []).append(Grant(protocol, clause))
    kept = []
    for (dataset, name), given in grants.items():
        until = max(g.protocol.retention.keep_until(on) for g in given)
        longest = sorted((g for g in given if g.protocol.retention.keep_until(on) == until), key=lambda g: g.ref)
        kept.append(
            FieldKept(
                dataset=dataset,
                field=name,
                retention=longest[0].protocol.retention,
                keep_until=until,
                clauses=tuple(g.ref for g in longest),
                released_by=tuple(sorted(g.ref for g in given)),
            )
        )
    return tuple(sorted(kept, key=lambda k: (k.dataset, _order(k.field))))
