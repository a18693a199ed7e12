"""Endpoints for information-governance leads: the protocol register, flows, withheld events, reviews, retention,
access."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from api.auth import IgLeadDep
from api.bounds import FIRST_DAY, LAST_DAY, MAX_DAYS, check_day
from api.dependencies import RegisterDep, SessionDep
from api.paging import PageDep, paged
from api.reply import ReplyDep
from api.schemas.ig import AccessOut, FieldRetentionOut, FlowOut, ProtocolOut, ReleasesOut, WithheldOut
from api.services import ig as service

router = APIRouter(prefix="/v1/ig", tags=["information governance"])


def day_range(
    from_: Annotated[date, Query(alias="from", description="first day (default: all)")] = FIRST_DAY,
    to: Annotated[date, Query(description="last day (default: all)")] = LAST_DAY,
) -> tuple[date, date]:
    """The `from` and `to` days, each within the years the API answers for (400 otherwise)."""
    return check_day("from", from_), check_day("to", to)


DayRangeDep = Annotated[tuple[date, date], Depends(day_range)]


@router.get("/protocols", response_model=list[ProtocolOut])
def protocols(caller: IgLeadDep, register: RegisterDep, reply: ReplyDep) -> list[ProtocolOut]:
    """The protocol register (those the caller's organisation is party to)."""
    return reply(service.protocols(register, caller))


@router.get("/flows", response_model=list[FlowOut])
def flows(
    caller: IgLeadDep,
    register: RegisterDep,
    session: SessionDep,
    reply: ReplyDep,
    days: DayRangeDep,
    page: PageDep,
) -> list[FlowOut]:
    """Events released into the warehouse, by protocol x clause x partner x recipient x month.

    A data owner sees the flows of its own events; a recipient sees what was released to it, under the
    clause's disclosure rule when the clause is aggregates-only; the hub operator sees everything. A page at a time
    (`limit`, `offset`).
    """
    return reply(paged(service.flows(session, register, caller, *days), page))


@router.get("/withheld", response_model=list[WithheldOut])
def withheld(
    caller: IgLeadDep,
    session: SessionDep,
    reply: ReplyDep,
    days: DayRangeDep,
    page: PageDep,
) -> list[WithheldOut]:
    """Events withheld by the protocols, by reason, dataset, publishing partner and month (a page at a time)."""
    return reply(paged(service.withheld(session, caller, *days), page))


@router.get("/reviews", response_model=list[ProtocolOut])
def reviews(
    caller: IgLeadDep,
    register: RegisterDep,
    reply: ReplyDep,
    within_days: Annotated[int, Query(ge=0, le=MAX_DAYS)] = 90,
) -> list[ProtocolOut]:
    """Protocols whose review is due within `within_days` (or overdue)."""
    return reply(service.reviews(register, caller, within_days))


@router.get("/retention", response_model=list[FieldRetentionOut])
def retention(
    caller: IgLeadDep, register: RegisterDep, reply: ReplyDep, on: Annotated[date | None, Query()] = None
) -> list[FieldRetentionOut]:
    """How long each field of each dataset is kept: per dataset and field, the longest retention of the clauses in
    force on `on` (default today) that release it, and which clause(s) give it (protocols the caller is party to)."""
    return reply(service.retention(register, caller, None if on is None else check_day("on", on)))


@router.get("/access-log", response_model=list[AccessOut])
def access_log(
    caller: IgLeadDep, session: SessionDep, reply: ReplyDep, limit: Annotated[int, Query(ge=1, le=10_000)] = 100
) -> list[AccessOut]:
    """The latest API queries (by the caller's organisation, or all for the hub operator)."""
    return reply(service.access_log(session, caller, limit))


@router.get("/releases", response_model=ReleasesOut)
def releases(
    caller: IgLeadDep,
    session: SessionDep,
    reply: ReplyDep,
    days: DayRangeDep,
    page: PageDep,
    org: Annotated[str | None, Query()] = None,
    format: Annotated[Literal["json", "csv"], Query(description="json (default) or csv")] = "json",
) -> ReleasesOut | Response:
    """What the hub released to an organisation on days from..to (the release record of /v1/counts): every figure
    (dataset, level, areas, categories, period, the value shown or suppressed, the rule) and, per organisation,
    dataset and level, how many were shown and suppressed. An IG lead sees its own organisation's, the hub operator
    any (`org`); `format=csv` lists the figures. The summary counts every figure; the figures come a page at a time
    (`limit`, `offset`)."""
    answer = service.releases(session, caller, org, *days)
    figures = list(page.of(answer.body.figures))
    table = None if answer.table is None else replace(answer.table, rows=figures)
    body = answer.body.model_copy(update={"figures": figures})
    return reply(replace(answer, body=body, rows=len(figures), table=table), format)
