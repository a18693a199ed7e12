"""What the protocol register lets flow from one partner's feeds, and to whom (pure: no I/O).

For each protocol that names the partner as a data owner, the version that is in force on the day asked about
(else its latest version, with why it is not in force), and each of its clauses over a dataset the partner provides
under it: one flow per recipient, saying which fields go at which precision, as records or only as aggregates,
under which disclosure rule. The partner's page shows these (`GET /v1/partner/flows`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sharing_protocols.clause_rule import clause_rule_text
from sharing_protocols.decision import ProtocolRegister
from sharing_protocols.protocol import Clause, Output, Protocol, RecipientKind
from sharing_protocols.topics import partner_topic


@dataclass(frozen=True)
class PartnerFlow:
    """One recipient's grant of one of the partner's datasets, under one clause of one protocol version."""

    dataset: str
    protocol: str  # id@version
    title: str
    in_force: bool
    not_in_force_reason: str | None
    clause: str
    recipient: str
    recipient_name: str
    recipient_kind: RecipientKind
    fields: tuple[str, ...]
    spatial_precision: str | None
    temporal_precision: str | None
    output: Output
    disclosure: str  # the clause's rule in plain words (clause_rule_text)
    categories: tuple[str, ...] | None  # None: every category
    pseudonym_linkage: bool
    retention: str  # as the protocol states it, e.g. "13 months"
    legal_gateways: tuple[str, ...]


@dataclass(frozen=True)
class PartnerFeed:
    """A dataset the partner provides under a protocol, and the topic it publishes it on."""

    dataset: str
    topic: str
    protocols: tuple[str, ...]  # id@version of the versions `partner_flows` reads, in force or not


def _versions(register: ProtocolRegister, partner: str, on: date) -> list[Protocol]:
    """Per protocol id naming `partner` as a data owner: the version in force on `on`, else the latest version."""
    in_force = {p.id: p for p in register.active_at(on)}
    chosen: dict[str, Protocol] = {}
    for protocol in register.protocols:  # by id then version: the latest overwrites
        if partner in protocol.owner_ids:
            chosen[protocol.id] = in_force.get(protocol.id, protocol)
    return list(chosen.values())


def _flows(register: ProtocolRegister, protocol: Protocol, clause: Clause, partner: str, on: date) -> list[PartnerFlow]:
    reason = register.not_in_force_reason(protocol, on)
    out = []
    for dataset in clause.datasets:
        if not protocol.provides(partner, dataset):
            continue
        for recipient_id in clause.recipients:
            recipient = protocol.recipient(recipient_id)
            if recipient is None:  # the register refuses such a protocol; kept for the type checker
                continue
            out.append(
                PartnerFlow(
                    dataset=dataset,
                    protocol=protocol.label,
                    title=protocol.title,
                    in_force=reason is None,
                    not_in_force_reason=reason,
                    clause=clause.id,
                    recipient=recipient.id,
                    recipient_name=recipient.name,
                    recipient_kind=recipient.kind,
                    fields=clause.fields,
                    spatial_precision=clause.spatial_precision,
                    temporal_precision=clause.temporal_precision,
                    output=clause.output,
                    disclosure=clause_rule_text(clause),
                    categories=clause.categories,
                    pseudonym_linkage=clause.pseudonym_linkage,
                    retention=str(protocol.retention),
                    legal_gateways=tuple(g.ref for g in protocol.legal_gateways),
                )
            )
    return out


def partner_flows(
    register: ProtocolRegister, partner: str, on: date, dataset: str | None = None
) -> tuple[PartnerFlow, ...]:
    """Every flow the register grants from `partner`'s datasets (only `dataset`, when given), as of `on`: in force
    first, then by dataset, protocol, clause and recipient."""
    flows = [
        flow
        for protocol in _versions(register, partner, on)
        for clause in protocol.clauses
        for flow in _flows(register, protocol, clause, partner, on)
        if dataset is None or flow.dataset == dataset
    ]
    return tuple(sorted(flows, key=lambda f: (not f.in_force, f.dataset, f.protocol, f.clause, f.recipient)))


def partner_feeds(register: ProtocolRegister, partner: str, on: date, topic_prefix: str) -> tuple[PartnerFeed, ...]:
    """The datasets `partner` provides under the protocols `partner_flows` reads, each with its topic
    (`<prefix>.events.<dataset>.<partner>`), by dataset."""
    protocols: dict[str, list[str]] = {}
    for protocol in _versions(register, partner, on):
        for owner in protocol.data_owners:
            if owner.id == partner:
                for name in owner.datasets:
                    protocols.setdefault(name, []).append(protocol.label)
    return tuple(
        PartnerFeed(name, partner_topic(topic_prefix, name, partner), tuple(sorted(labels)))
        for name, labels in sorted(protocols.items())
    )
