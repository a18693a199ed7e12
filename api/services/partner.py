"""What a partner sees of its own feeds: what the protocols let flow from them, to whom, and its publishing settings."""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import UTC, datetime
from typing import Any

from api.answer import Answer, Table
from api.caller import Caller
from api.errors import Forbidden
from api.schemas.partner import PartnerFeedOut, PartnerSettingsOut
from sharing_protocols.decision import ProtocolRegister
from sharing_protocols.partner_flows import PartnerFlow, partner_feeds, partner_flows
from sharing_protocols.topics import partner_principal


def _partner(caller: Caller) -> str:
    """The partner id the caller publishes as: its organisation (only a partner key's)."""
    if caller.role != "partner":
        raise Forbidden("this endpoint is for partners (about their own feeds)")
    return caller.org


def _flow_record(row: PartnerFlow) -> dict[str, Any]:
    """A flow as one CSV row: lists joined with spaces."""
    return {k: " ".join(v) if isinstance(v, tuple) else v for k, v in asdict(row).items()}


def flows(register: ProtocolRegister, caller: Caller, dataset: str | None) -> Answer[list[PartnerFlow]]:
    """Every flow the protocols grant from the calling partner's datasets (only `dataset`, when given): recipient,
    fields, precision, output and disclosure rule, under which protocol version and clause, in force today or not."""
    partner = _partner(caller)
    found = partner_flows(register, partner, datetime.now(UTC).date(), dataset)
    out = list(found)
    columns = [f.name for f in fields(PartnerFlow)]
    table = Table(out, columns, "partner-flows", "none (the protocols' grants)", flatten=_flow_record)
    return Answer(out, sorted({flow.protocol for flow in found}), len(out), table)


def settings(register: ProtocolRegister, caller: Caller, topic_prefix: str) -> Answer[PartnerSettingsOut]:
    """The calling partner's id, broker username, datasets and topics (never a secret)."""
    partner = _partner(caller)
    feeds = partner_feeds(register, partner, datetime.now(UTC).date(), topic_prefix)
    body = PartnerSettingsOut(
        partner=partner,
        topic_prefix=topic_prefix,
        username=partner_principal(topic_prefix, partner),
        feeds=[PartnerFeedOut(dataset=f.dataset, topic=f.topic, protocols=list(f.protocols)) for f in feeds],
    )
    return Answer(body, sorted({label for f in feeds for label in f.protocols}), len(feeds))
