"""GET /v1/counts: event counts by area and period (and category, dataset), within the caller's protocols."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api.access_log import AccessDep
from api.aggregate_query import AggregateParams, AggregateParamsDep, Answer, period_table, resolve
from api.auth import Caller, CallerDep
from api.dependencies import GeographyDep, RegisterDep, SessionDep
from api.disclosure import ProtectedTable, protect, protect_value
from api.formats import area_features, csv_response, geojson_response
from api.periods import month_index
from sharing_protocols.decision import ProtocolRegister
from warehouse.aggregates import Level, count_cells
from warehouse.areas import area_names
from warehouse.geocoder_settings import GeocoderSettings

router = APIRouter(prefix="/v1", tags=["counts"])


class DisclosureOut(BaseModel):
    """The disclosure rule the figures were released under, and how many were suppressed."""

    rule: str
    source: str
    min_cell_count: int
    round_to: int
    clauses: list[str]
    suppressed: int


class AreaPeriodOut(BaseModel):
    """The keys of one row of an area table."""

    area_code: str
    area_name: str
    category: str | None = None
    dataset: str | None = None
    period: str


class CountOut(AreaPeriodOut):
    count: int | None  # None: suppressed under the disclosure rule


class UnlocatedOut(BaseModel):
    reason: str
    category: str | None = None
    dataset: str | None = None
    period: str
    count: int | None


class TotalsOut(BaseModel):
    """Margins of the table: totals per area, period (and category, dataset) and overall."""

    area: dict[str, int | None]
    period: dict[str, int | None]
    category: dict[str, int | None] | None = None
    dataset: dict[str, int | None] | None = None
    overall: int | None


class CountsResponse(BaseModel):
    datasets: list[str]
    level: Level
    period_type: str
    periods: list[str]
    protocols: list[str]
    disclosure: DisclosureOut
    rows: list[CountOut]
    totals: TotalsOut
    unlocated: list[UnlocatedOut]


def disclosure_out(table: ProtectedTable, extra_suppressed: int = 0) -> DisclosureOut:
    rule = table.rule
    return DisclosureOut(
        rule=rule.describe(),
        source=rule.source,
        min_cell_count=rule.min_cell_count,
        round_to=rule.round_to,
        clauses=list(rule.clauses),
        suppressed=table.primary + table.secondary + extra_suppressed,
    )


def count_table(
    session: Session, register: ProtocolRegister, caller: Caller, params: AggregateParams
) -> tuple[Answer, CountsResponse]:
    """The disclosure-controlled counts for `params`, as the caller may see them."""
    answer = resolve(session, register, caller, params)
    cells, unlocated = count_cells(session, answer.query)
    table = protect(period_table(params, cells, answer.periods), answer.rule, len(params.dimensions))
    names = area_names(session, params.level, sorted({str(key[0]) for key in table.cells}))
    dims = params.dimensions
    rows = []
    for key, count in table.cells.items():
        values = dict(zip(dims, key, strict=True))
        area = str(values["area"])
        rows.append(
            CountOut(
                area_code=area,
                area_name=names.get(area, area),
                category=values.get("category"),
                dataset=values.get("dataset"),
                period=str(values["period"]),
                count=count,
            )
        )
    margins = {dim: {str(k): v for k, v in table.margins[i].items()} for i, dim in enumerate(dims)}
    labels = month_index(answer.periods)
    unplaced: dict[tuple[str, str | None, str | None, str], int] = {}
    for cell in unlocated:
        for label in labels.get(cell.month, ()):
            key = (cell.reason, cell.category, cell.dataset, label)
            unplaced[key] = unplaced.get(key, 0) + cell.count
    unlocated_out = [
        UnlocatedOut(reason=r, category=c, dataset=d, period=p, count=protect_value(n, answer.rule))
        for (r, c, d, p), n in sorted(unplaced.items(), key=lambda i: (i[0][0], i[0][3], str(i[0][1]), str(i[0][2])))
    ]
    response = CountsResponse(
        datasets=list(params.datasets),
        level=params.level,
        period_type=params.period.value,
        periods=[p.label for p in answer.periods],
        protocols=answer.refs,
        disclosure=disclosure_out(table, sum(1 for u in unlocated_out if u.count is None)),
        rows=rows,
        totals=TotalsOut(
            area=margins["area"],
            period=margins["period"],
            category=margins.get("category"),
            dataset=margins.get("dataset"),
            overall=table.total,
        ),
        unlocated=unlocated_out,
    )
    return answer, response


def render(
    session: Session, geography: GeocoderSettings, params: AggregateParams, body: CountsResponse
) -> CountsResponse | Response:
    """The counts in the format asked for."""
    columns = ["area_code", "area_name", *[d for d in params.dimensions[1:-1]], "period", "count"]
    if params.format == "csv":
        rows = [r.model_dump() for r in body.rows]
        return csv_response(rows, columns, "counts", body.disclosure.rule)
    if params.format == "geojson":
        features = area_features(session, geography, params.level, [r.model_dump() for r in body.rows], columns)
        members: dict[str, Any] = {"disclosure": body.disclosure.model_dump(), "protocols": body.protocols}
        return geojson_response(features, **members)
    return body


@router.get("/counts", response_model=CountsResponse)
def counts(
    session: SessionDep,
    caller: CallerDep,
    register: RegisterDep,
    access: AccessDep,
    params: AggregateParamsDep,
    geography: GeographyDep,
) -> CountsResponse | Response:
    """Counts per area and period (month, quarter, financial year, rolling 12 months or all), by category/dataset.

    Only events released under a clause granting the caller are counted; every figure is disclosure-controlled
    (the NHS rule unless the clauses set their own) and the response says which rule applied. Unlocated events
    are listed apart, by reason.
    """
    answer, body = count_table(session, register, caller, params)
    access.protocols = answer.refs
    access.rows = len(body.rows) + len(body.unlocated)
    return render(session, geography, params, body)
