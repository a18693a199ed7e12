"""Each period's count against the previous period and the same period a year before.

Every count shown is the released (disclosure-controlled) one, and each change, percentage and significance test is
computed from the released counts, so nothing unreleased can be inferred from them. The counts of the reported
periods and of the periods they are compared with are protected together, as one table.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from api.aggregate_query import AggregateParams, Resolved, period_table, resolve
from api.answer import Answer, Table
from api.caller import Caller
from api.errors import BadParameter
from api.perturbation_tables import PerturbationTables
from api.protection import perturbation_variance, protect_cells
from api.released_figures import Recorder
from api.schemas.common import disclosure_out
from api.schemas.trends import ComparisonOut, TrendOut, TrendsResponse
from api.significance import METHOD, compare, method_for
from api.ward_parents import WardParents
from sharing_protocols.decision import ProtocolRegister
from sharing_protocols.disclosure import Key, ProtectedTable
from sharing_protocols.periods import Period, PeriodType, add_months, periods, span
from warehouse.queries.aggregates import data_months, located_cells
from warehouse.queries.areas import area_names

ALPHA = 0.05
INDICATIVE_BELOW = 20  # ONS: figures based on fewer than 20 events are unreliable
BASIS = (
    "Counts are the released (disclosure-controlled) ones; every change, percentage and significance test is "
    "computed from those released counts, never from unreleased figures. A change is significant when the "
    f"{METHOD} gives p < {ALPHA} (equal exposure assumed: periods of equal length, population unchanged); it is "
    f"indicative when either count is below {INDICATIVE_BELOW}. A comparison period that begins before the first "
    "month with data has no count."
)
PERTURBED_BASIS = (
    " The counts were perturbed by the cell key method, each with variance V = {variance:g}, so the test is instead "
    "the {method}: the perturbations' noise is not taken for a change."
)
COMPARED = ("previous", "year_ago")


def _comparison(
    current: int | None, base: int | None, period: Period, start: date | None, variance: float
) -> ComparisonOut:
    empty = {"absolute_change": None, "percent_change": None, "p_value": None, "significant": None, "indicative": None}
    if start is None or period.first < start:
        note = "before the first month with data" + ("" if start is None else f" ({start:%Y-%m})")
        return ComparisonOut(period=period.label, count=None, note=note, **empty)
    if current is None or base is None:
        note = "a count is suppressed under the disclosure rule"
        return ComparisonOut(period=period.label, count=base, note=note, **empty)
    change = compare(current, base, alpha=ALPHA, indicative_below=INDICATIVE_BELOW, variance=variance)
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
    session: Session,
    register: ProtocolRegister,
    tables: PerturbationTables,
    caller: Caller,
    params: AggregateParams,
    release: Recorder | None = None,
) -> tuple[Resolved, TrendsResponse]:
    """The released counts of each reported period, its previous period and the same period a year before
    (released through `release`, if any, as /v1/counts releases them: its cells, each over one period)."""
    if params.period is PeriodType.all:
        raise BadParameter("trends need a period of month, quarter, financial_year or rolling_12")
    reported = periods(params.period, params.start, params.end)
    # The query (and so its disclosure rule) reaches back 12 months before `from`: every base period is in it.
    resolved = resolve(session, register, caller, replace(params, start=add_months(params.start, -12)))
    bases = {p.label: (p.previous(), p.shifted(-12)) for p in reported}
    every = {p.label: p for p in reported}
    for previous, year_ago in bases.values():
        every.setdefault(previous.label, previous)
        every.setdefault(year_ago.label, year_ago)
    first, last = span(list(every.values()))
    if first < resolved.query.start or last > resolved.query.end:
        raise AssertionError("a base period lies outside the widened query")
    cells = located_cells(session, resolved.query)
    table = protect_cells(
        period_table(params, cells, list(every.values())), resolved.rule, len(params.dimensions), tables
    )
    if release is not None:
        release.periods = list(every.values())
        table = release(resolved, table)
    variance = perturbation_variance(resolved.rule, tables)
    months = data_months(session, params.datasets, resolved.refs, resolved.scopes)
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
                    previous=_comparison(current, base_counts[0], previous, start, variance),
                    year_ago=_comparison(current, base_counts[1], year_ago, start, variance),
                )
            )
    response = TrendsResponse(
        datasets=list(params.datasets),
        level=params.level,
        period_type=params.period.value,
        periods=[p.label for p in reported],
        protocols=resolved.refs,
        disclosure=disclosure_out(table, scopes=resolved.scopes),
        method=method_for(variance),
        alpha=ALPHA,
        indicative_below=INDICATIVE_BELOW,
        first_month=None if start is None else f"{start:%Y-%m}",
        basis=BASIS + (PERTURBED_BASIS.format(variance=variance, method=method_for(variance)) if variance else ""),
        rows=rows,
    )
    if release is not None:
        response.disclosure = release.disclosed(response.disclosure)
    return resolved, response


def flat(row: TrendOut) -> dict[str, Any]:
    """A trend row as one flat record (previous_* and year_ago_* columns)."""
    out = row.model_dump(exclude=set(COMPARED))
    for name in COMPARED:
        for field, value in getattr(row, name).model_dump().items():
            out[f"{name}_{field}"] = value
    return out


def trends(
    session: Session,
    wards: WardParents,
    register: ProtocolRegister,
    tables: PerturbationTables,
    caller: Caller,
    params: AggregateParams,
) -> Answer[TrendsResponse]:
    """The trends for `params` (CSV and GeoJSON flatten each comparison into previous_* and year_ago_* columns).
    The counts shown (each group's in each period, reported or compared with) are recorded and guarded as
    /v1/counts'."""
    recorder = Recorder(session, wards, caller, params, margins=False)
    resolved, body = trend_table(session, register, tables, caller, params, recorder)
    compared = [f"{name}_{field}" for name in COMPARED for field in ComparisonOut.model_fields]
    members: dict[str, Any] = {
        "disclosure": body.disclosure.model_dump(),
        "protocols": body.protocols,
        "method": body.method,
        "basis": body.basis,
    }
    table = Table(
        rows=body.rows,
        columns=["area_code", "area_name", *params.dimensions[1:-1], "period", "count", *compared],
        name="trends",
        rule=body.disclosure.rule,
        level=params.level,
        members=members,
        flatten=flat,
    )
    return Answer(body, resolved.refs, len(body.rows), table, recorder.record())
