"""GET /v1/cohorts: reoffending cohorts (probation / IOM) by CSP or district, cohort and cohort period, with the
cohort size, reoffenders, rate, predicted rate and difference, and the offenders not linked to an area."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.auth import CallerDep
from api.dependencies import RegisterDep, SessionDep, WardsDep
from api.reply import ReplyDep
from api.schemas.cohorts import CohortsResponse
from api.services import cohorts as service
from warehouse.queries.aggregates import Level

router = APIRouter(prefix="/v1", tags=["cohorts"])


@router.get("/cohorts", response_model=CohortsResponse)
def cohorts(
    session: SessionDep,
    caller: CallerDep,
    register: RegisterDep,
    reply: ReplyDep,
    wards: WardsDep,
    from_: Annotated[str, Query(alias="from", description="first month a cohort period starts in, YYYY-MM")],
    to: Annotated[str, Query(description="last month a cohort period starts in, YYYY-MM")],
    level: Annotated[Level, Query(description="csp (default), lad, county or pfa (as the protocols allow)")] = (
        Level.csp
    ),
    area: Annotated[list[str] | None, Query(description="only these areas (codes at area_level)")] = None,
    area_level: Annotated[Level | None, Query(description="the level of `area` codes (default: level)")] = None,
    cohort: Annotated[list[str] | None, Query(description="only these cohorts (iom-fixed, iom-flex, general)")] = None,
    format: Annotated[Literal["json", "csv"], Query(description="json (default) or csv")] = "json",
) -> CohortsResponse | Response:
    """Reoffending cohorts per area, cohort and cohort period: size, reoffenders, rate, predicted rate, difference.

    Offenders are linked by pseudonym only under clauses granting the caller the fields and pseudonym linkage
    (403 naming what is missing); every count is disclosure-controlled and rates come from released counts.
    """
    return reply(service.cohorts(session, wards, register, caller, from_, to, level, area, area_level, cohort), format)
