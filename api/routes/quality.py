"""GET /v1/dq: the per-feed data-quality report (IG leads: every feed; partners: their own feeds)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.auth import CallerDep
from api.bounds import MAX_DAYS
from api.dependencies import RegisterDep, SessionDep
from api.reply import ReplyDep
from api.services import quality as service
from warehouse.queries.quality import DEFAULT_LATE_DAYS

router = APIRouter(prefix="/v1", tags=["data quality"])


@router.get("/dq")
def data_quality(
    caller: CallerDep,
    session: SessionDep,
    register: RegisterDep,
    reply: ReplyDep,
    dataset: str | None = None,
    partner: str | None = None,
    late_days: Annotated[int, Query(ge=0, le=MAX_DAYS)] = DEFAULT_LATE_DAYS,
) -> dict[str, Any]:
    """Completeness, geocoding, duplicates, late records and volume per feed (the report of `hub dq --json`)."""
    return reply(service.data_quality(session, register, caller, dataset, partner, late_days))
