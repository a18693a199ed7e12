"""GET /v1/scorecard: each registered indicator for one CSP -- actual, target, RAG and direction of travel."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.auth import CallerDep
from api.dependencies import RegisterDep, SessionDep, TablesDep, WardsDep
from api.reply import ReplyDep
from api.schemas.scorecard import ScorecardOut
from api.services import scorecard as service

router = APIRouter(prefix="/v1", tags=["indicators"])


@router.get("/scorecard", response_model=ScorecardOut)
def scorecard(
    session: SessionDep,
    caller: CallerDep,
    register: RegisterDep,
    tables: TablesDep,
    reply: ReplyDep,
    wards: WardsDep,
    csp: Annotated[str, Query(description="the CSP's code, e.g. E22000295")],
    indicator: Annotated[list[str] | None, Query(description="only these indicator ids")] = None,
    as_of: Annotated[
        str | None, Query(description="latest month of data to use, YYYY-MM (default: the latest)")
    ] = None,
    format: Annotated[Literal["json", "csv"], Query(description="json (default) or csv")] = "json",
) -> ScorecardOut | Response:
    """Actual, target, RAG and direction of travel of each CSP-level indicator for one CSP."""
    return reply(service.scorecard(session, wards, register, tables, caller, csp, indicator, as_of), format)
