"""GET /v1/repeats: domestic abuse repeat victimisation by area and month, or the MARAC repeat rate (NI 32) per
rolling 12 months by MARAC and/or area; linked by pseudonym, within the caller's protocols, disclosure-controlled."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api.access_log import AccessDep
from api.aggregate_query import check_area_level, month_range
from api.auth import CallerDep
from api.dependencies import RegisterDep, SessionDep
from api.formats import csv_response
from api.linked_query import linked_grant, percent, protect_parts
from api.routes.counts import DisclosureOut, disclosure_out
from sharing_protocols.disclosure import Rule, protect
from sharing_protocols.periods import months_between
from warehouse.aggregates import Level
from warehouse.areas import area_names
from warehouse.repeats import (
    MARAC_CASES,
    POLICE_RECORDS,
    RepeatQuery,
    domestic_abuse_repeats,
    marac_repeats,
)

router = APIRouter(prefix="/v1", tags=["repeats"])

Measure = Literal["domestic_abuse", "marac"]
MaracGrouping = Literal["marac_area", "area"]
DA_FIELDS = ("victim_pseudonym", "domestic_abuse")
MARAC_FIELDS = ("category", "marac_area", "victim_pseudonym", "perpetrator_pseudonym")
DA_DEFINITION = (
    "Police records flagged domestic abuse, in the month they began. An incident is a repeat when the same victim "
    "(pseudonym) had another domestic abuse incident in the 12 months before it (inclusive; of two on one day, "
    "the one with the larger event id is the repeat). Incidents without a victim pseudonym are counted and are "
    "never repeats."
)
MARAC_DEFINITION = (
    "NI 32: repeat cases / cases reviewed in the 12 months ending with each month x 100. A case is a victim and "
    "the main perpetrator; it is a repeat when the same victim with the same perpetrator was reviewed at the same "
    "MARAC in the 12 months before (inclusive; of two on one day, the one with the larger event id is the "
    "repeat). Information-only referrals are not cases (counted apart) and make no repeat; a case without a "
    "victim or perpetrator pseudonym is never a repeat."
)
DA_PARTS = ("repeat", "first", "without_victim_pseudonym")
MARAC_PARTS = ("repeat", "first", "unlinked")


class DomesticAbuseOut(BaseModel):
    """Domestic abuse incidents of one area and month (None: suppressed)."""

    area_code: str | None  # None: incidents with no code at the level
    area_name: str | None
    month: str
    incidents: int | None
    repeat_incidents: int | None
    repeat_percent: float | None
    without_victim_pseudonym: int | None


class DomesticAbuseTotals(BaseModel):
    incidents: int | None
    repeat_incidents: int | None
    repeat_percent: float | None
    without_victim_pseudonym: int | None


class DomesticAbuseResponse(BaseModel):
    measure: Literal["domestic_abuse"] = "domestic_abuse"
    definition: str
    dataset: str
    level: Level
    months: list[str]
    protocols: list[str]
    disclosure: DisclosureOut
    rows: list[DomesticAbuseOut]
    unlocated: list[DomesticAbuseOut]
    totals: DomesticAbuseTotals


class MaracOut(BaseModel):
    """MARAC cases reviewed in one rolling 12 months at one MARAC and/or area (None: suppressed)."""

    marac_area: str | None  # None: not grouped by MARAC
    area_code: str | None  # None: not grouped by area, or (in `unlocated`) no code at the level
    area_name: str | None
    period: str
    cases: int | None
    repeat_cases: int | None
    repeat_rate: float | None
    unlinked_cases: int | None
    information_only: int | None


class MaracResponse(BaseModel):
    measure: Literal["marac"] = "marac"
    definition: str
    dataset: str
    level: Level
    by: list[MaracGrouping]
    periods: list[str]
    protocols: list[str]
    disclosure: DisclosureOut
    rows: list[MaracOut]
    unlocated: list[MaracOut]


def domestic_abuse_table(session: Session, query: RepeatQuery, refs: list[str], rule: Rule) -> DomesticAbuseResponse:
    """Domestic abuse incidents, repeats and % repeat by area and month, protected under `rule`."""
    cells = domestic_abuse_repeats(session, query)
    parts = protect_parts(
        [
            {
                "repeat": c.repeats,
                "first": c.incidents - c.repeats - c.without_victim,
                "without_victim_pseudonym": c.without_victim,
            }
            for c in cells
        ],
        DA_PARTS,
        rule,
    )
    names = area_names(session, query.level, sorted({c.area_code for c in cells if c.area_code}))
    rows: list[DomesticAbuseOut] = []
    unlocated: list[DomesticAbuseOut] = []
    for i, cell in enumerate(cells):
        incidents, repeats = parts.total(i), parts.part(i, "repeat")
        out = DomesticAbuseOut(
            area_code=cell.area_code,
            area_name=names.get(cell.area_code) if cell.area_code else None,
            month=f"{cell.month:%Y-%m}",
            incidents=incidents,
            repeat_incidents=repeats,
            repeat_percent=percent(repeats, incidents),
            without_victim_pseudonym=parts.part(i, "without_victim_pseudonym"),
        )
        (rows if cell.area_code else unlocated).append(out)
    total, repeated = parts.overall(), parts.overall("repeat")
    return DomesticAbuseResponse(
        definition=DA_DEFINITION,
        dataset=POLICE_RECORDS,
        level=query.level,
        months=[f"{m:%Y-%m}" for m in months_between(query.start, query.end)],
        protocols=refs,
        disclosure=disclosure_out(parts.table),
        rows=rows,
        unlocated=unlocated,
        totals=DomesticAbuseTotals(
            incidents=total,
            repeat_incidents=repeated,
            repeat_percent=percent(repeated, total),
            without_victim_pseudonym=parts.overall("without_victim_pseudonym"),
        ),
    )


def marac_table(
    session: Session, query: RepeatQuery, by: Sequence[MaracGrouping], refs: list[str], rule: Rule
) -> MaracResponse:
    """MARAC cases, repeat cases and the repeat rate per rolling 12 months, protected under `rule`."""
    by_area = "area" in by
    cells = marac_repeats(session, query, by_marac="marac_area" in by, by_area=by_area)
    parts = protect_parts(
        [{"repeat": c.repeats, "first": c.cases - c.repeats - c.unlinked, "unlinked": c.unlinked} for c in cells],
        MARAC_PARTS,
        rule,
    )
    # Information-only referrals are in no row's total: a table of their own.
    information = protect({(str(i),): c.information_only for i, c in enumerate(cells)}, rule, 1)
    names = area_names(session, query.level, sorted({c.area_code for c in cells if c.area_code}))
    rows: list[MaracOut] = []
    unlocated: list[MaracOut] = []
    for i, cell in enumerate(cells):
        cases, repeats = parts.total(i), parts.part(i, "repeat")
        out = MaracOut(
            marac_area=cell.marac_area,
            area_code=cell.area_code,
            area_name=names.get(cell.area_code) if cell.area_code else None,
            period=f"12 months to {cell.last_month:%Y-%m}",
            cases=cases,
            repeat_cases=repeats,
            repeat_rate=percent(repeats, cases),
            unlinked_cases=parts.part(i, "unlinked"),
            information_only=information.cells[(str(i),)],
        )
        (unlocated if by_area and cell.area_code is None else rows).append(out)
    return MaracResponse(
        definition=MARAC_DEFINITION,
        dataset=MARAC_CASES,
        level=query.level,
        by=list(by),
        periods=[f"12 months to {m:%Y-%m}" for m in months_between(query.start, query.end)],
        protocols=refs,
        disclosure=disclosure_out(parts.table, information.primary + information.secondary),
        rows=rows,
        unlocated=unlocated,
    )


_DA_COLUMNS = (
    "area_code",
    "area_name",
    "month",
    "incidents",
    "repeat_incidents",
    "repeat_percent",
    "without_victim_pseudonym",
)
_MARAC_COLUMNS = (
    "marac_area",
    "area_code",
    "area_name",
    "period",
    "cases",
    "repeat_cases",
    "repeat_rate",
    "unlinked_cases",
    "information_only",
)


@router.get("/repeats", response_model=DomesticAbuseResponse | MaracResponse)
def repeats(
    session: SessionDep,
    caller: CallerDep,
    register: RegisterDep,
    access: AccessDep,
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
    start, end = month_range(from_, to)
    if by and measure != "marac":
        raise HTTPException(status_code=422, detail="by applies to measure=marac only")
    areas = tuple(area or ())
    within = check_area_level(level, area_level, areas)
    dataset, fields = (POLICE_RECORDS, DA_FIELDS) if measure == "domestic_abuse" else (MARAC_CASES, MARAC_FIELDS)
    grant = linked_grant(register, caller, dataset, level, fields, days=True)
    access.protocols = grant.refs
    query = RepeatQuery(level, start, end, tuple(grant.refs), areas, within)
    body: DomesticAbuseResponse | MaracResponse
    if measure == "domestic_abuse":
        body = domestic_abuse_table(session, query, grant.refs, grant.rule)
        columns: Sequence[str] = _DA_COLUMNS
    else:
        body = marac_table(session, query, list(dict.fromkeys(by or ["marac_area"])), grant.refs, grant.rule)
        columns = _MARAC_COLUMNS
    access.rows = len(body.rows) + len(body.unlocated)
    if format == "csv":
        records = [r.model_dump() for r in [*body.rows, *body.unlocated]]
        return csv_response(records, columns, f"repeats-{measure}", body.disclosure.rule)
    return body
