"""Response schemas of the partner's endpoints (/v1/partner/...); a flow is a sharing_protocols PartnerFlow."""

from __future__ import annotations

from pydantic import BaseModel


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
