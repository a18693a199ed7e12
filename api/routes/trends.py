"""GET /v1/trends: each period's count against the previous period and the same period a year before.

Every count shown is the released (disclosure-controlled) one, and each change, percentage and significance test is
computed from the released counts, so nothing unreleased can be inferred from them. The counts of the reported
periods and of the periods they are compared with are protected together, as one table.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api.access_log import AccessDep
from api.aggregate_query import AggregateParams, AggregateParamsDep, Answer, period_table, resolve
from api.auth import Caller, CallerDep
from api.dependencies import GeographyDep, RegisterDep, SessionDep
from api.disclosure import Key, ProtectedTable, protect
from api.formats import area_features, csv_response, geojson_response
from api.periods import Period, PeriodType, periods, span
from api.routes.counts import AreaPeriodOut, DisclosureOut, disclosure_out
from api.significance import METHOD, compare
from sharing_protocols.decision import ProtocolRegister
from sharing_protocols.envelope import add_months
from warehouse.aggregates import Level, data_months, located_cells
from warehouse.areas import area_names
from warehouse.geocoder_settings import GeocoderSettings

router = APIRouter(prefix="/v1", tags=["trends"])

ALPHA = 0.05
INDICATIVE_BELOW = 20  # ONS: figures based on fewer than 20 events are unreliable
BASIS = (
    "Counts are the released (disclosure-controlled) ones; every change, percentage and significance test is "
    "computed from those released counts, never from unreleased figures. A change is significant when the "
    f"{METHOD} gives p < {ALPHA} (equal exposure assumed: periods of equal length, population unchanged); it is "
    f"indicative when either count is below {INDICATIVE_BELOW}. A comparison period that begins before the first "
    "month with data has no count."
)
COMPARED = ("previous", "year_ago")


class ComparisonOut(BaseModel):
    """The change from a comparison period's released count to the current period's."""

    period: str
    count: int | None  # the released count; None: suppressed, or before the first month with data
    absolute_change: int | None
    percent_change: float | None  # None also when the base is 0
    p_value: float | None
    significant: bool | None
    indicative: bool | None
    note: str | None = None  # why there is no change


class TrendOut(AreaPeriodOut):
    count: int | None
    previous: ComparisonOut
    year_ago: ComparisonOut


class TrendsResponse(BaseModel):
    datasets: list[str]
    level: Level
    period_type: str
    periods: list[str]
    protocols: list[str]
    disclosure: DisclosureOut
    method: str
    alpha: float
    indicative_below: int
    first_month: str | None  # the first month with data of these datasets under the caller's clauses
    basis: str
    rows: list[TrendOut]


def _comparison(current: int | None, base: int | None, period: Period, start: date | None) -> ComparisonOut:
    empty = {"absolute_change": None, "percent_change": None, "p_value": None, "significant": None, "indicative": None}
    if start is None or period.first < start:
        note = "before the first month with data" + ("" if start is None else f" ({start:%Y-%m})")
        return ComparisonOut(period=period.label, count=None, note=note, **empty)
    if current is None or base is None:
        note = "a count is suppressed under the disclosure rule"
        return ComparisonOut(period=period.label, count=base, note=note, **empty)
    change = compare(current, base, alpha=ALPHA, indicative_below=INDICATIVE_BELOW)
    return ComparisonOut(
        period=period.label,
        count=base,
        absolute_change=change.absolute_change,
        percent_change=change.percent_change,
        p_value=change.p_value,
        significant=change.significant,
        indicative=change.indicative,
        note="no percentage: the base count is 0" if base == 0 else None,
    )


def _released(table: ProtectedTable, key: Key) -> int | None:
    """A released cell (None: suppressed); a cell not in the table is a true 0."""
    return table.cells.get(key, 0)


def trend_table(
    session: Session, register: ProtocolRegister, caller: Caller, params: AggregateParams
) -> tuple[Answer, TrendsResponse]:
    """The released counts of each reported period, its previous period and the same period a year before."""
    if params.period is PeriodType.all:
        raise HTTPException(
            status_code=422, detail="trends need a period of month, quarter, financial_year or rolling_12"
        )
    reported = periods(params.period, params.start, params.end)
    # The query (and so its disclosure rule) reaches back 12 months before `from`: every base period is in it.
    answer = resolve(session, register, caller, replace(params, start=add_months(params.start, -12)))
    bases = {p.label: (p.previous(), p.shifted(-12)) for p in reported}
    every = {p.label: p for p in reported}
    for previous, year_ago in bases.values():
        every.setdefault(previous.label, previous)
        every.setdefault(year_ago.label, year_ago)
    first, last = span(list(every.values()))
    if first < answer.query.start or last > answer.query.end:
        raise AssertionError("a base period lies outside the widened query")
    cells = located_cells(session, answer.query)
    table = protect(period_table(params, cells, list(every.values())), answer.rule, len(params.dimensions))
    months = data_months(session, params.datasets, answer.refs)
    start = months[0] if months else None
    groups = sorted({key[:-1] for key in table.cells}, key=lambda g: tuple(str(v) for v in g))
    names = area_names(session, params.level, sorted({str(g[0]) for g in groups}))
    dims = params.dimensions
    rows = []
    for group in groups:
        values = dict(zip(dims[:-1], group, strict=True))
        area = str(values["area"])
        for period in reported:
            current = _released(table, (*group, period.label))
            previous, year_ago = bases[period.label]
            base_counts = [_released(table, (*group, p.label)) for p in (previous, year_ago)]
            if current == 0 and base_counts == [0, 0]:
                continue
            rows.append(
                TrendOut(
                    area_code=area,
                    area_name=names.get(area, area),
                    category=values.get("category"),
                    dataset=values.get("dataset"),
                    period=period.label,
                    count=current,
                    previous=_comparison(current, base_counts[0], previous, start),
                    year_ago=_comparison(current, base_counts[1], year_ago, start),
                )
            )
    response = TrendsResponse(
        datasets=list(params.datasets),
        level=params.level,
        period_type=params.period.value,
        periods=[p.label for p in reported],
        protocols=answer.refs,
        disclosure=disclosure_out(table),
        method=METHOD,
        alpha=ALPHA,
        indicative_below=INDICATIVE_BELOW,
        first_month=None if start is None else f"{start:%Y-%m}",
        basis=BASIS,
        rows=rows,
    )
    return answer, response


def flat(row: TrendOut) -> dict[str, Any]:
    """A trend row as one flat record (previous_* and year_ago_* columns)."""
    out = row.model_dump(exclude=set(COMPARED))
    for name in COMPARED:
        for field, value in getattr(row, name).model_dump().items():
            out[f"{name}_{field}"] = value
    return out


def render(
    session: Session, geography: GeocoderSettings, params: AggregateParams, body: TrendsResponse
) -> TrendsResponse | Response:
    """The trends in the format asked for."""
    compared = [f"{name}_{field}" for name in COMPARED for field in ComparisonOut.model_fields]
    columns = ["area_code", "area_name", *params.dimensions[1:-1], "period", "count", *compared]
    if params.format == "csv":
        return csv_response([flat(r) for r in body.rows], columns, "trends", body.disclosure.rule)
    if params.format == "geojson":
        features = area_features(session, geography, params.level, [flat(r) for r in body.rows], columns)
        members: dict[str, Any] = {
            "disclosure": body.disclosure.model_dump(),
            "protocols": body.protocols,
            "method": body.method,
            "basis": body.basis,
        }
        return geojson_response(features, **members)
    return body


@router.get("/trends", response_model=TrendsResponse)
def trends(
    session: SessionDep,
    caller: CallerDep,
    register: RegisterDep,
    access: AccessDep,
    params: AggregateParamsDep,
    geography: GeographyDep,
) -> TrendsResponse | Response:
    """Change against the previous period and the same period last year, absolute and %, with significance.

    The same parameters and disclosure control as /v1/counts (period: month, quarter, financial_year or
    rolling_12). Each change carries the exact conditional Poisson test's p-value, a significance flag and an
    "indicative" flag where a count is small, all computed from the released counts.
    """
    answer, body = trend_table(session, register, caller, params)
    access.protocols = answer.refs
    access.rows = len(body.rows)
    return render(session, geography, params, body)
