"""GET /v1/repeats: domestic abuse repeat victimisation by area and month, or the MARAC repeat rate (NI 32) per
rolling 12 months by MARAC and/or area; linked by pseudonym, within the caller's protocols, disclosure-controlled."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.auth import CallerDep
from api.dependencies import RegisterDep, SessionDep, WardsDep
from api.reply import ReplyDep
from api.schemas.repeats import DomesticAbuseResponse, MaracGrouping, MaracResponse, Measure
from api.services import repeats as service
from warehouse.queries.aggregates import Level

router = APIRouter(prefix="/v1", tags=["repeats"])


@router.get("/repeats", response_model=DomesticAbuseResponse | MaracResponse)
def repeats(
    session: SessionDep,
    caller: CallerDep,
    register: RegisterDep,
    reply: ReplyDep,
    wards: WardsDep,
    measure: Annotated[Measure, Query(description="domestic_abuse (repeat victimisation) or marac (NI 32)")],
    from_: Annotated[str, Query(alias="from", description="first month, YYYY-MM")],
    to: Annotated[str, Query(description="last month, YYYY-MM")],
    level: Annotated[Level, Query(description="lad, csp, county or pfa (as the protocols allow)")] = Level.lad,
    area: Annotated[list[str] | None, Query(description="only these areas (codes at area_level)")] = None,
    area_level: Annotated[Level | None, Query(description="the level of `area` codes (default: level)")] = None,
    by: Annotated[
        list[MaracGrouping] | None, Query(description="marac only: group by marac_area (default) and/or area")
    ] = None,
    format: Annotated[Literal["json", "csv"], Query(description="json (default) or csv")] = "json",
) -> DomesticAbuseResponse | MaracResponse | Response:
    """Repeat victimisation of domestic abuse (incidents, repeats, % repeat by area and month) or the MARAC
    repeat rate (cases, repeat cases, rate per 12 months ending with each month, by MARAC and/or area).

    Records are linked by pseudonym only under clauses granting the caller the fields, pseudonym linkage and the
    day (403 naming what is missing); every count is disclosure-controlled, rates come from released counts.
    """
    answer = service.repeats(session, wards, register, caller, measure, from_, to, level, area, area_level, by)
    return reply(answer, format)
