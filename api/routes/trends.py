"""GET /v1/trends: each period's count against the previous period and the same period a year before."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from api.auth import CallerDep
from api.dependencies import RegisterDep, SessionDep, TablesDep, WardsDep
from api.params import AggregateParamsDep
from api.reply import ReplyDep
from api.schemas.trends import TrendsResponse
from api.services import trends as service

router = APIRouter(prefix="/v1", tags=["trends"])


@router.get("/trends", response_model=TrendsResponse)
def trends(
    session: SessionDep,
    wards: WardsDep,
    caller: CallerDep,
    register: RegisterDep,
    tables: TablesDep,
    reply: ReplyDep,
    params: AggregateParamsDep,
) -> TrendsResponse | Response:
    """Change against the previous period and the same period last year, absolute and %, with significance.

    The same parameters and disclosure control as /v1/counts (period: month, quarter, financial_year or
    rolling_12). Each change carries the exact conditional Poisson test's p-value, a significance flag and an
    "indicative" flag where a count is small, all computed from the released counts.
    """
    return reply(service.trends(session, wards, register, tables, caller, params), params.format)
