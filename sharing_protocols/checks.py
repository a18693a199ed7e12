"""Checks and descriptions of protocol documents, for information-governance leads. Pure text in,
text out: the caller reads the files and supplies the catalogue and today's date."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sharing_protocols.catalogue import DatasetSpec, allowed_fields
from sharing_protocols.documents import Problem
from sharing_protocols.protocol import (
    PROTOCOL_FORMAT,
    Protocol,
    ProtocolError,
    consistency_problems,
    validate_schema,
)
from sharing_protocols.protocol_words import clause_summary


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
            f"      {clause_summary(clause)}",
        ]
        if clause.categories is not None:
            lines.append(f"      categories: {', '.join(clause.categories)}")
    return "\n".join(lines) + "\n"
