"""A protocol's clauses in plain words, for the people who sign and review them: who receives what, how finely,
as records or counts, under which disclosure rule, for how long. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from sharing_protocols.clause_rule import clause_rule_text
from sharing_protocols.protocol import Clause, Protocol, Scope

OUTPUT_WORDS = {"record_level": "record by record", "aggregates_only": "as counts only (aggregates)"}


def clause_summary(clause: Clause) -> str:
    """One line: the clause's output, precisions, disclosure rule (for counts) and linkage."""
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


def scope_words(scope: Scope | None) -> str:
    """Where a clause releases events from, in words."""
    if scope is None:
        return "anywhere (no geographic limit)"
    if scope.codes is not None:
        return f"only the {scope.level} areas {', '.join(scope.codes)}"
    at = f" (given at {scope.level} level)" if scope.level else ""
    return f"only each recipient's own area{at}"


@dataclass(frozen=True, slots=True)
class ClauseTerms:
    """One clause's terms in words: each a sentence part a reader needs no YAML for."""

    id: str
    recipients: tuple[str, ...]  # "Name (id)"
    datasets: tuple[str, ...]
    fields: tuple[str, ...]
    categories: str
    spatial_precision: str
    temporal_precision: str
    output: str
    disclosure: str
    retention: str
    scope: str
    linkage: str
    summary: str


def clause_terms(protocol: Protocol, clause: Clause) -> ClauseTerms:
    """The terms of `clause` of `protocol` in words (its retention is the protocol's)."""
    named = {r.id: r.name for r in protocol.recipients}
    return ClauseTerms(
        id=clause.id,
        recipients=tuple(f"{named.get(r, r)} ({r})" for r in clause.recipients),
        datasets=clause.datasets,
        fields=clause.fields,
        categories="every category" if clause.categories is None else ", ".join(clause.categories),
        spatial_precision=(
            f"no finer than {clause.spatial_precision}" if clause.spatial_precision else "no location released"
        ),
        temporal_precision=(
            f"no finer than {clause.temporal_precision}" if clause.temporal_precision else "no time released"
        ),
        output=OUTPUT_WORDS[clause.output],
        disclosure=clause_rule_text(clause),
        retention=f"kept for {protocol.retention} after receipt",
        scope=scope_words(clause.scope),
        linkage=("records may be linked by pseudonym" if clause.pseudonym_linkage else "records may not be linked"),
        summary=clause_summary(clause),
    )
