"""GET /v1/cohorts: reoffending cohorts (probation / IOM) by CSP or district, cohort and cohort period, with the
cohort size, reoffenders, rate, predicted rate and difference, and the offenders not linked to an area."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query
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
from sharing_protocols.disclosure import Rule
from warehouse.aggregates import Level
from warehouse.areas import area_names
from warehouse.cohorts import PROBATION_IOM, CohortCell, CohortQuery, cohort_cells

router = APIRouter(prefix="/v1", tags=["cohorts"])

FIELDS = ("category", "offender_pseudonym", "reoffended", "predicted_reoffending_rate")
PARTS = ("reoffended", "not_reoffended")
DEFINITION = (
    "Offenders (distinct pseudonyms) in each cohort and cohort period, by the area of their home postcode. "
    "rate = reoffenders / cohort size x 100; predicted rate = the mean predicted reoffending rate of the cohort "
    "x 100 (shown only with its cohort size); difference = rate - predicted rate. Offenders with no code at the "
    "level are listed under `unlinked`."
)


class CohortOut(BaseModel):
    """One cohort of one area and cohort period (None: suppressed)."""

    area_code: str | None  # None (in `unlinked`): no code at the level
    area_name: str | None
    cohort: str
    period: str  # YYYY-MM/YYYY-MM (or YYYY-MM for a single month)
    period_start: str
    period_end: str
    cohort_size: int | None
    reoffenders: int | None
    rate: float | None
    predicted_rate: float | None
    difference: float | None


class CohortsResponse(BaseModel):
    definition: str
    dataset: str
    level: Level
    protocols: list[str]
    disclosure: DisclosureOut
    rows: list[CohortOut]
    unlinked: list[CohortOut]


def _period(cell: CohortCell) -> str:
    first, last = f"{cell.period_start:%Y-%m}", f"{cell.period_end:%Y-%m}"
    return first if first == last else f"{first}/{last}"


def _difference(rate: float | None, predicted: float | None) -> float | None:
    return None if rate is None or predicted is None else float(Decimal(str(rate)) - Decimal(str(predicted)))


def cohort_table(session: Session, query: CohortQuery, refs: list[str], rule: Rule) -> CohortsResponse:
    """The protected cohort figures for `query`; the predicted rate is shown only where the cohort size is."""
    cells = cohort_cells(session, query)
    parts = protect_parts(
        [{"reoffended": c.reoffenders, "not_reoffended": c.offenders - c.reoffenders} for c in cells], PARTS, rule
    )
    names = area_names(session, query.level, sorted({c.area_code for c in cells if c.area_code}))
    rows: list[CohortOut] = []
    unlinked: list[CohortOut] = []
    for i, cell in enumerate(cells):
        size, reoffenders = parts.total(i), parts.part(i, "reoffended")
        rate = percent(reoffenders, size)
        predicted = percent(cell.predicted_total, cell.predicted_members) if size is not None else None
        out = CohortOut(
            area_code=cell.area_code,
            area_name=names.get(cell.area_code) if cell.area_code else None,
            cohort=cell.category,
            period=_period(cell),
            period_start=cell.period_start.isoformat(),
            period_end=cell.period_end.isoformat(),
            cohort_size=size,
            reoffenders=reoffenders,
            rate=rate,
            predicted_rate=predicted,
            difference=_difference(rate, predicted),
        )
        (rows if cell.area_code else unlinked).append(out)
    return CohortsResponse(
        definition=DEFINITION,
        dataset=PROBATION_IOM,
        level=query.level,
        protocols=refs,
        disclosure=disclosure_out(parts.table),
        rows=rows,
        unlinked=unlinked,
    )


_COLUMNS = (
    "area_code",
    "area_name",
    "cohort",
    "period",
    "period_start",
    "period_end",
    "cohort_size",
    "reoffenders",
    "rate",
    "predicted_rate",
    "difference",
)


@router.get("/cohorts", response_model=CohortsResponse)
def cohorts(
    session: SessionDep,
    caller: CallerDep,
    register: RegisterDep,
    access: AccessDep,
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
    start, end = month_range(from_, to)
    areas = tuple(area or ())
    within = check_area_level(level, area_level, areas)
    grant = linked_grant(register, caller, PROBATION_IOM, level, FIELDS)
    access.protocols = grant.refs
    query = CohortQuery(level, start, end, tuple(grant.refs), areas, within, tuple(cohort or ()))
    body = cohort_table(session, query, grant.refs, grant.rule)
    access.rows = len(body.rows) + len(body.unlinked)
    if format == "csv":
        records = [r.model_dump() for r in [*body.rows, *body.unlinked]]
        return csv_response(records, _COLUMNS, "cohorts", body.disclosure.rule)
    return body
