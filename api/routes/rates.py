"""GET /v1/rates: event rates per 1,000 (or 10,000, 100,000) of an ONS population, by area and period."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.auth import CallerDep
from api.dependencies import RegisterDep, SessionDep, TablesDep, WardsDep
from api.params import AggregateParamsDep
from api.reply import ReplyDep
from api.schemas.rates import DenominatorName, RatesResponse
from api.services import rates as service

router = APIRouter(prefix="/v1", tags=["rates"])


@router.get("/rates", response_model=RatesResponse)
def rates(
    session: SessionDep,
    wards: WardsDep,
    caller: CallerDep,
    register: RegisterDep,
    tables: TablesDep,
    reply: ReplyDep,
    params: AggregateParamsDep,
    denominator: Annotated[
        DenominatorName,
        Query(description="persons (all ages), adult_females (females 16-64, Census 2021) or adults (persons 18+)"),
    ] = "persons",
    per: Annotated[
        int | None, Query(description="1000, 10000 or 100000 (default 1000; 10000 for adult_females)")
    ] = None,
) -> RatesResponse | Response:
    """Rates per area and period: released count / ONS population x per, with a 95% interval.

    The same parameters and disclosure control as /v1/counts; each denominator's source, year and method is
    stated, and an area without a denominator gets no rate, with the reason. Rates are per period, not annualised.
    """
    return reply(service.rates(session, wards, register, tables, caller, params, denominator, per), params.format)
