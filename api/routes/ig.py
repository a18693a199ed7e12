"""Endpoints for information-governance leads: the protocol register, a protocol's terms and the changes between its
versions, flows, withheld events, reviews, retention (register, runs, retractions), access."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from api.auth import IgLeadDep
from api.bounds import FIRST_DAY, LAST_DAY, MAX_DAYS, check_day
from api.dependencies import RegisterDep, SessionDep
from api.paging import PageDep, paged
from api.reply import ReplyDep
from api.schemas.ig import (
    AccessOut,
    FieldRetentionOut,
    FlowOut,
    ProtocolDiffOut,
    ProtocolOut,
    ProtocolTermsOut,
    ReleasesOut,
    RetentionRunOut,
    RetractionOut,
    WithheldOut,
)
from api.services import ig as service
from sharing_protocols.documents import SLUG_PATTERN
from warehouse.queries.ig import AccessFilter

router = APIRouter(prefix="/v1/ig", tags=["information governance"])


async def day_range(
    from_: Annotated[date, Query(alias="from", description="first day (default: all)")] = FIRST_DAY,
    to: Annotated[date, Query(description="last day (default: all)")] = LAST_DAY,
) -> tuple[date, date]:
    """The `from` and `to` days, each within the years the API answers for (400 otherwise)."""
    return check_day("from", from_), check_day("to", to)


DayRangeDep = Annotated[tuple[date, date], Depends(day_range)]
FormatParam = Annotated[Literal["json", "csv"], Query(description="json (default) or csv")]
Org = Annotated[str | None, Query(max_length=80, pattern=SLUG_PATTERN, description="an organisation id")]
ProtocolId = Annotated[str, Path(max_length=80, pattern=SLUG_PATTERN, description="e.g. police-records-to-csp")]
Version = Annotated[int, Query(ge=1, le=1_000_000)]


@router.get("/protocols", response_model=list[ProtocolOut])
def protocols(
    caller: IgLeadDep,
    register: RegisterDep,
    reply: ReplyDep,
    due_within: Annotated[
        int | None, Query(ge=0, le=MAX_DAYS, description="only those due for review or expiring within N days")
    ] = None,
    format: FormatParam = "json",
) -> list[ProtocolOut] | Response:
    """The protocol register (those the caller's organisation is party to), every version; with `due_within`, only
    the highest version of those due for review or expiring within that many days (or overdue), the sooner date
    first. `format=csv` lists them, one row a version."""
    return reply(service.protocols(register, caller, due_within), format)


@router.get("/protocols/{protocol_id}", response_model=ProtocolTermsOut)
def protocol_terms(
    caller: IgLeadDep,
    register: RegisterDep,
    reply: ReplyDep,
    protocol_id: ProtocolId,
    version: Annotated[Version | None, Query(description="default: the highest you may see")] = None,
) -> ProtocolTermsOut:
    """One version of a protocol the caller's organisation is party to: its terms and each clause in plain words
    (recipients, datasets, fields, spatial and temporal precision, output, disclosure rule, retention, scope), and
    the versions of it the caller may see (404 for a protocol or version it is not party to)."""
    return reply(service.protocol_terms(register, caller, protocol_id, version))


@router.get("/protocols/{protocol_id}/diff", response_model=ProtocolDiffOut)
def protocol_diff(
    caller: IgLeadDep,
    register: RegisterDep,
    reply: ReplyDep,
    protocol_id: ProtocolId,
    from_: Annotated[Version, Query(alias="from", description="the earlier version")],
    to: Annotated[Version, Query(description="the later version")],
) -> ProtocolDiffOut:
    """What changed from version `from` to version `to` of a protocol: each added, removed or changed item of the
    protocol, a data owner or a clause (fields, recipients, precisions, output, disclosure rule ...), in words."""
    return reply(service.protocol_diff(register, caller, protocol_id, from_, to))


@router.get("/flows", response_model=list[FlowOut])
def flows(
    caller: IgLeadDep,
    register: RegisterDep,
    session: SessionDep,
    reply: ReplyDep,
    days: DayRangeDep,
    page: PageDep,
    partner: Org = None,
    recipient: Org = None,
    format: FormatParam = "json",
) -> list[FlowOut] | Response:
    """Events released into the warehouse, by protocol x clause x partner x recipient x month (only one `partner`'s
    or to one `recipient`, when given).

    A data owner sees the flows of its own events; a recipient sees what was released to it, under the
    clause's disclosure rule when the clause is aggregates-only; the hub operator sees everything. A page at a time
    (`limit`, `offset`); `format=csv` gives the page as CSV.
    """
    return reply(paged(service.flows(session, register, caller, *days, partner, recipient), page), format)


@router.get("/withheld", response_model=list[WithheldOut])
def withheld(
    caller: IgLeadDep,
    session: SessionDep,
    reply: ReplyDep,
    days: DayRangeDep,
    page: PageDep,
    partner: Org = None,
    format: FormatParam = "json",
) -> list[WithheldOut] | Response:
    """Events withheld by the protocols, by reason, dataset, publishing partner and month: the caller's
    organisation's own, any `partner`'s for the hub operator (a page at a time; `format=csv` gives the page as
    CSV)."""
    return reply(paged(service.withheld(session, caller, *days, partner), page), format)


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


@router.get("/retention-runs", response_model=list[RetentionRunOut])
def retention_runs(
    caller: IgLeadDep,
    register: RegisterDep,
    session: SessionDep,
    reply: ReplyDep,
    days: DayRangeDep,
    page: PageDep,
    format: FormatParam = "json",
) -> list[RetentionRunOut] | Response:
    """What each retention run (`hub retention run`) removed, per dataset: whole events, or one field of events;
    runs of days `from`..`to`, newest first, of the datasets of the protocols the caller's organisation is party to
    (all for the hub operator). A page at a time; `format=csv`."""
    return reply(service.retention_runs(session, register, caller, *days, page), format)


@router.get("/retractions", response_model=list[RetractionOut])
def retractions(
    caller: IgLeadDep,
    session: SessionDep,
    reply: ReplyDep,
    days: DayRangeDep,
    page: PageDep,
    format: FormatParam = "json",
) -> list[RetractionOut] | Response:
    """Records partners withdrew on days `from`..`to`, by day, dataset and partner, and how many of them deleted a
    stored event: the caller's organisation's own (all for the hub operator). A page at a time; `format=csv`."""
    return reply(paged(service.retractions(session, caller, *days), page), format)


@router.get("/access-log", response_model=list[AccessOut])
def access_log(
    caller: IgLeadDep,
    session: SessionDep,
    reply: ReplyDep,
    days: DayRangeDep,
    page: PageDep,
    org: Org = None,
    role: Annotated[str | None, Query(max_length=20, pattern=r"^[a-z_]+$", description="the caller's role")] = None,
    path: Annotated[str | None, Query(max_length=200, pattern=r"^/[\x21-\x7e]*$", description="path prefix")] = None,
    status: Annotated[int | None, Query(ge=100, le=599)] = None,
    format: FormatParam = "json",
) -> list[AccessOut] | Response:
    """API queries on days `from`..`to` (UTC), newest first, by the caller's organisation (any `org` for the hub
    operator; another's is refused), narrowed by the caller's `role`, the endpoint's `path` prefix and the answer's
    `status`. A page at a time (`limit`, default 1000, `offset`); `format=csv` gives the page as CSV."""
    where = AccessFilter(org=org, role=role, endpoint=path, status=status)
    return reply(service.access_log(session, caller, where, *days, page), format)


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
