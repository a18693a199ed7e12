"""GET /v1/indicators: the scorecard indicator registry, for any caller with a key."""

from __future__ import annotations

from fastapi import APIRouter

from api.auth import CallerDep
from api.dependencies import SessionDep
from api.reply import ReplyDep
from api.schemas.indicators import IndicatorOut
from api.services import indicators as service

router = APIRouter(prefix="/v1", tags=["indicators"])


@router.get("/indicators", response_model=list[IndicatorOut])
def indicators(caller: CallerDep, session: SessionDep, reply: ReplyDep) -> list[IndicatorOut]:
    """The indicators of the scorecard: definition, owner, direction of good, baseline, targets and data lag."""
    return reply(service.indicators(session, caller))
