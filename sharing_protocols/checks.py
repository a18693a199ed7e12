"""Checks, differences and descriptions of protocol documents, for information-governance leads. Pure text in,
text out: the caller reads the files and supplies the catalogue and today's date."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date

from sharing_protocols.catalogue import DatasetSpec, allowed_fields
from sharing_protocols.clause_rule import clause_rule_text
from sharing_protocols.documents import Problem
from sharing_protocols.protocol import (
    PROTOCOL_FORMAT,
    Clause,
    Protocol,
    ProtocolError,
    consistency_problems,
    validate_schema,
)


def check_document(text: str, source_name: str, catalogue: Mapping[str, DatasetSpec], today: date) -> list[Problem]:
    """Every problem found in one protocol document; an empty list means it passes.

    Stops after YAML syntax or schema errors (the rest needs a well-formed document); otherwise reports the
    consistency rules, datasets and fields unknown to `catalogue`, a review date before `today`, an active
    protocol past its expiry date, and data owners of an active protocol without a signatory.
    """
    try:
        protocol = validate_schema(PROTOCOL_FORMAT.load_yaml(text, source_name), source_name)
    except ProtocolError as exc:
        return list(exc.problems)
    problems = consistency_problems(protocol, source_name)
    problems += catalogue_problems(protocol, source_name, catalogue)
    problems += date_problems(protocol, source_name, today)
    problems += signatory_problems(protocol, source_name)
    return problems


def catalogue_problems(protocol: Protocol, source_name: str, catalogue: Mapping[str, DatasetSpec]) -> list[Problem]:
    """Datasets the catalogue does not hold, and clause fields that are not fields of their datasets."""
    problems = [
        Problem(
            source_name, f"datasets[{i}]", f"is not a dataset in the hub's catalogue ({', '.join(sorted(catalogue))})"
        )
        for i, name in enumerate(protocol.datasets)
        if name not in catalogue
    ]
    for i, clause in enumerate(protocol.clauses):
        for name in clause.datasets:
            spec = catalogue.get(name)
            if spec is None:
                continue
            allowed = allowed_fields(spec)
            for j, field in enumerate(clause.fields):
                if field not in allowed:
                    problems.append(
                        Problem(
                            source_name,
                            f"clauses[{i}].fields[{j}]",
                            f"is not a field of dataset {name}; its fields are: {', '.join(allowed)}",
                        )
                    )
    return problems


def date_problems(protocol: Protocol, source_name: str, today: date) -> list[Problem]:
    """A review date already passed (unless expired), and an expiry date passed while still active."""
    problems = []
    if protocol.status != "expired" and protocol.review_due < today:
        problems.append(
            Problem(
                source_name,
                "review_due",
                f"review was due on {protocol.review_due.isoformat()}, before today ({today.isoformat()}); "
                "the protocol releases nothing until it is reviewed",
            )
        )
    if protocol.status == "active" and protocol.expires is not None and protocol.expires < today:
        problems.append(
            Problem(
                source_name,
                "status",
                f"is active but the protocol expired on {protocol.expires.isoformat()}; set status: expired",
            )
        )
    return problems


def signatory_problems(protocol: Protocol, source_name: str) -> list[Problem]:
    """Data owners of an active protocol that no signatory signs for."""
    if protocol.status != "active":
        return []
    signed = {signatory.organisation for signatory in protocol.signatories}
    return [
        Problem(source_name, f"data_owners[{i}]", "has no signatory: every data owner of an active protocol must sign")
        for i, owner in enumerate(protocol.data_owners)
        if owner.id not in signed
    ]


def _clause_summary(clause: Clause) -> str:
    parts = [clause.output.replace("_", " ")]
    if clause.spatial_precision:
        parts.append(f"location at {clause.spatial_precision}")
    if clause.temporal_precision:
        parts.append(f"time at {clause.temporal_precision}")
    if clause.output == "aggregates_only" or clause.disclosure:
        parts.append(f"counts: {clause_rule_text(clause)}")
    if clause.pseudonym_linkage:
        parts.append("pseudonym linkage allowed")
    return "; ".join(parts)


def describe(protocol: Protocol) -> str:
    """A plain-text account of a protocol, for `hub protocols show`."""
    lines = [
        f"{protocol.label}: {protocol.title}",
        f"  status: {protocol.status}",
        f"  valid from {protocol.valid_from.isoformat()}; review due {protocol.review_due.isoformat()}; "
        + (f"expires {protocol.expires.isoformat()}" if protocol.expires else "no expiry date"),
        f"  DPIA: {protocol.dpia_reference or 'none given'}",
        f"  retention: {protocol.retention}",
        "  data owners:",
        *(f"    - {owner.id} ({owner.name}), provides {', '.join(owner.datasets)}" for owner in protocol.data_owners),
        "  recipients:",
        *(f"    - {r.id} ({r.name}; {r.kind})" for r in protocol.recipients),
        "  purposes:",
        *(f"    - {purpose}" for purpose in protocol.purposes),
        "  legal gateways:",
        *(f"    - {gateway.ref}: {gateway.text}" for gateway in protocol.legal_gateways),
        f"  datasets: {', '.join(protocol.datasets)}",
        "  signed by:",
        *(f"    - {s.role}, {s.organisation}" for s in protocol.signatories),
        "  clauses:",
    ]
    for clause in protocol.clauses:
        lines += [
            f"    - {clause.id}: {', '.join(clause.recipients)} may receive {', '.join(clause.datasets)}",
            f"      fields: {', '.join(clause.fields)}",
            f"      {_clause_summary(clause)}",
        ]
        if clause.categories is not None:
            lines.append(f"      categories: {', '.join(clause.categories)}")
    return "\n".join(lines) + "\n"


def _text(value: object) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return ", ".join(_text(v) for v in value) or "(none)"
    return str(value)


def _set_changes(what: str, old: Sequence[str], new: Sequence[str]) -> list[str]:
    added = [item for item in new if item not in old]
    removed = [item for item in old if item not in new]
    return [f"{what} added: {item}" for item in added] + [f"{what} removed: {item}" for item in removed]


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


def diff_protocols(a: Protocol, b: Protocol) -> list[str]:
    """What changed from `a` to `b`, one human-readable line per change; empty when nothing did."""
    changes = [
        f"{name}: {_text(get(a))} -> {_text(get(b))}" for name, get in _SCALARS if _text(get(a)) != _text(get(b))
    ]
    changes += _set_changes("data owner", [o.id for o in a.data_owners], [o.id for o in b.data_owners])
    provided = {o.id: o.datasets for o in a.data_owners}
    for owner in (o for o in b.data_owners if o.id in provided):
        changes += [
            f"data owner {owner.id}: {line}" for line in _set_changes("dataset", provided[owner.id], owner.datasets)
        ]
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
    changes += [f"clause added: {cid} ({_clause_summary(new[cid])})" for cid in new if cid not in old]
    changes += [f"clause removed: {cid}" for cid in old if cid not in new]
    for cid in (cid for cid in new if cid in old):
        changes += _clause_changes(cid, old[cid], new[cid])
    return changes


def _clause_changes(cid: str, a: Clause, b: Clause) -> list[str]:
    changes = []
    for name in ("recipients", "datasets", "fields", "categories"):
        before, after = getattr(a, name), getattr(b, name)
        if before == after:
            continue
        if before is None or after is None:
            changes.append(f"clause {cid}: {name}: {_text(before)} -> {_text(after)}")
        else:
            changes += [f"clause {cid}: {line}" for line in _set_changes(name, before, after)]
    for name in ("spatial_precision", "temporal_precision", "output", "disclosure", "pseudonym_linkage"):
        before, after = getattr(a, name), getattr(b, name)
        if before != after:
            changes.append(f"clause {cid}: {name}: {_text(before)} -> {_text(after)}")
    return changes
