"""GET /v1/counts: event counts by area and period (and category, dataset), within the caller's protocols."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from api.auth import CallerDep
from api.dependencies import MemosDep, RegisterDep, SessionDep, TablesDep, WardsDep
from api.params import AggregateParamsDep
from api.reply import ReplyDep
from api.schemas.counts import CountsResponse
from api.services import counts as service

router = APIRouter(prefix="/v1", tags=["counts"])


@router.get("/counts", response_model=CountsResponse)
def counts(
    session: SessionDep,
    wards: WardsDep,
    caller: CallerDep,
    register: RegisterDep,
    tables: TablesDep,
    reply: ReplyDep,
    params: AggregateParamsDep,
    memos: MemosDep,
) -> CountsResponse | Response:
    """Counts per area and period (month, quarter, financial year, rolling 12 months or all), by category/dataset.

    Only events released under a clause granting the caller are counted; every figure is disclosure-controlled
    (each clause's own rule, else its default: docs/protocols.md, "Which rule a clause has") and the response
    says which rule applied. Unlocated events
    are listed apart, by reason.
    """
    return reply(service.counts(session, wards, register, tables, caller, params, memos), params.format)
