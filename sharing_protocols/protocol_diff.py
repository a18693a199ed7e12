"""What changed between two versions of a protocol, change by change: what was added, removed or changed, in the
protocol or in one of its clauses (or a data owner's datasets), with the values before and after in words. Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from sharing_protocols.protocol import Clause, Protocol
from sharing_protocols.protocol_words import clause_summary

ChangeKind = Literal["added", "removed", "changed"]


@dataclass(frozen=True, slots=True)
class Change:
    """One change from one version to the next.

    `within` names the part changed ("clause ward-records", "data owner sussex-police"; None: the protocol
    itself), `what` the item or setting ("recipient", "fields", "spatial_precision"); `before` and `after` the
    values in words (None: there was none, as for an added item). `detail` says more of an added clause.
    """

    kind: ChangeKind
    what: str
    within: str | None = None
    before: str | None = None
    after: str | None = None
    detail: str | None = None

    @property
    def clause(self) -> str | None:
        """The id of the clause changed, when the change is within one (or is one added or removed)."""
        if self.within is not None and self.within.startswith("clause "):
            return self.within.removeprefix("clause ")
        if self.what == "clause":
            return self.after if self.kind == "added" else self.before
        return None

    def __str__(self) -> str:
        if self.kind == "changed":
            core = f"{self.what}: {self.before} -> {self.after}"
        else:
            item = self.after if self.kind == "added" else self.before
            core = f"{self.what} {self.kind}: {item}" + (f" ({self.detail})" if self.detail else "")
        return core if self.within is None else f"{self.within}: {core}"


def _text(value: object) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return ", ".join(_text(v) for v in value) or "(none)"
    return str(value)


def _set_changes(what: str, old: Sequence[str], new: Sequence[str], within: str | None = None) -> list[Change]:
    added = [Change("added", what, within, after=item) for item in new if item not in old]
    removed = [Change("removed", what, within, before=item) for item in old if item not in new]
    return added + removed


_SCALARS: tuple[tuple[str, Callable[[Protocol], object]], ...] = (
    ("id", lambda p: p.id),
    ("version", lambda p: p.version),
    ("title", lambda p: p.title),
    ("status", lambda p: p.status),
    ("valid_from", lambda p: p.valid_from),
    ("review_due", lambda p: p.review_due),
    ("expires", lambda p: p.expires),
    ("dpia_reference", lambda p: p.dpia_reference),
    ("retention", lambda p: p.retention),
)


def protocol_changes(a: Protocol, b: Protocol) -> list[Change]:
    """What changed from `a` to `b`, one `Change` each; empty when nothing did."""
    changes = [
        Change("changed", name, before=_text(get(a)), after=_text(get(b)))
        for name, get in _SCALARS
        if _text(get(a)) != _text(get(b))
    ]
    changes += _set_changes("data owner", [o.id for o in a.data_owners], [o.id for o in b.data_owners])
    provided = {o.id: o.datasets for o in a.data_owners}
    for owner in (o for o in b.data_owners if o.id in provided):
        changes += _set_changes("dataset", provided[owner.id], owner.datasets, f"data owner {owner.id}")
    changes += _set_changes(
        "recipient", [f"{r.id} ({r.kind})" for r in a.recipients], [f"{r.id} ({r.kind})" for r in b.recipients]
    )
    changes += _set_changes("purpose", a.purposes, b.purposes)
    changes += _set_changes("legal gateway", [g.text for g in a.legal_gateways], [g.text for g in b.legal_gateways])
    changes += _set_changes("dataset", a.datasets, b.datasets)
    changes += _set_changes(
        "signatory",
        [f"{s.role}, {s.organisation}" for s in a.signatories],
        [f"{s.role}, {s.organisation}" for s in b.signatories],
    )
    old = {clause.id: clause for clause in a.clauses}
    new = {clause.id: clause for clause in b.clauses}
    changes += [Change("added", "clause", after=cid, detail=clause_summary(new[cid])) for cid in new if cid not in old]
    changes += [Change("removed", "clause", before=cid) for cid in old if cid not in new]
    for cid in (cid for cid in new if cid in old):
        changes += _clause_changes(cid, old[cid], new[cid])
    return changes


def diff_protocols(a: Protocol, b: Protocol) -> list[str]:
    """What changed from `a` to `b`, one human-readable line per change; empty when nothing did."""
    return [str(change) for change in protocol_changes(a, b)]


def _clause_changes(cid: str, a: Clause, b: Clause) -> list[Change]:
    within = f"clause {cid}"
    changes = []
    for name in ("recipients", "datasets", "fields", "categories"):
        before, after = getattr(a, name), getattr(b, name)
        if before == after:
            continue
        if before is None or after is None:
            changes.append(Change("changed", name, within, _text(before), _text(after)))
        else:
            changes += _set_changes(name, before, after, within)
    for name in ("spatial_precision", "temporal_precision", "output", "disclosure", "pseudonym_linkage"):
        before, after = getattr(a, name), getattr(b, name)
        if before != after:
            changes.append(Change("changed", name, within, _text(before), _text(after)))
    return changes
