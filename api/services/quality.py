"""The per-feed data-quality report (IG leads: every feed; partners: their own feeds)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from api.answer import Answer
from api.caller import Caller
from api.errors import Forbidden
from sharing_protocols.decision import ProtocolRegister
from warehouse.queries.quality import feed_quality, report_json


def data_quality(
    session: Session,
    register: ProtocolRegister,
    caller: Caller,
    dataset: str | None,
    partner: str | None,
    late_days: int,
) -> Answer[dict[str, Any]]:
    """Completeness, geocoding, duplicates, late records and volume per feed (the report of `hub dq --json`)."""
    if caller.role == "partner":
        if partner is not None and partner != caller.org:
            raise Forbidden("a partner sees only its own feeds")
        partner = caller.org
    elif caller.role != "ig_lead":
        raise Forbidden("this endpoint is for IG leads and for partners")
    report = feed_quality(session, register, datetime.now(UTC), dataset=dataset, partner=partner, late_days=late_days)
    protocols = sorted({label for feed in report.feeds for label in feed.protocols})
    return Answer(report_json(report), protocols, len(report.feeds))
