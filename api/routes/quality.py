"""GET /v1/dq: the per-feed data-quality report (IG leads: every feed; partners: their own feeds)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from api.access_log import AccessDep
from api.auth import CallerDep
from api.dependencies import RegisterDep, SessionDep
from warehouse.quality import DEFAULT_LATE_DAYS, feed_quality, report_json

router = APIRouter(prefix="/v1", tags=["data quality"])


@router.get("/dq")
def data_quality(
    caller: CallerDep,
    session: SessionDep,
    register: RegisterDep,
    access: AccessDep,
    dataset: str | None = None,
    partner: str | None = None,
    late_days: Annotated[int, Query(ge=0)] = DEFAULT_LATE_DAYS,
) -> dict[str, Any]:
    """Completeness, geocoding, duplicates, late records and volume per feed (the report of `hub dq --json`)."""
    if caller.role == "partner":
        if partner is not None and partner != caller.org:
            raise HTTPException(status_code=403, detail="a partner sees only its own feeds")
        partner = caller.org
    elif caller.role != "ig_lead":
        raise HTTPException(status_code=403, detail="this endpoint is for IG leads and for partners")
    report = feed_quality(session, register, datetime.now(UTC), dataset=dataset, partner=partner, late_days=late_days)
    access.rows = len(report.feeds)
    access.protocols = sorted({label for feed in report.feeds for label in feed.protocols})
    return report_json(report)
