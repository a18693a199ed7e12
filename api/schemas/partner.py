"""Response schemas of the partner's endpoints (/v1/partner/...)."""

from __future__ import annotations

from pydantic import BaseModel


class PartnerFlowOut(BaseModel):
    """One recipient's grant of one of the partner's datasets, under one clause (sharing_protocols.partner_flows)."""

    dataset: str
    protocol: str  # id@version
    title: str
    in_force: bool
    not_in_force_reason: str | None
    clause: str
    recipient: str
    recipient_name: str
    recipient_kind: str  # csp, organisation or public
    fields: list[str]
    spatial_precision: str | None
    temporal_precision: str | None
    output: str  # record_level or aggregates_only
    disclosure: str  # the clause's disclosure rule in plain words
    categories: list[str] | None  # None: every category
    pseudonym_linkage: bool
    retention: str
    legal_gateways: list[str]


class PartnerFeedOut(BaseModel):
    """A dataset the partner publishes: `hub publish <dataset> FILE` sends it on `topic`."""

    dataset: str
    topic: str
    protocols: list[str]


class PartnerSettingsOut(BaseModel):
    """What a partner needs to publish, never a secret: its id (`hub publish --partner`), its datasets and topics,
    and the name of its broker principal. The bootstrap address, CA file and password come from the hub operator."""

    partner: str
    topic_prefix: str  # HUB_KAFKA_TOPIC_PREFIX of the deployment
    username: str  # the SCRAM principal `hub partners add` makes: <prefix>.partner.<id>
    feeds: list[PartnerFeedOut]
