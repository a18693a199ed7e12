"""Event counts by area and period (and category, dataset), within the caller's protocols, disclosure-controlled."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from api.aggregate_query import AggregateParams, Resolved, period_table, resolve
from api.answer import Answer, Table
from api.caller import Caller
from api.memo import AnswerMemos
from api.perturbation_tables import PerturbationTables
from api.protection import protect_cells, protect_count
from api.released_figures import Recorder
from api.schemas.common import UnlocatedOut, disclosure_out
from api.schemas.counts import CountOut, CountsResponse, TotalsOut
from api.ward_parents import WardParents
from sharing_protocols.cell_key_release import KeyedCount
from sharing_protocols.decision import ProtocolRegister
from sharing_protocols.periods import month_index
from sharing_protocols.release_record import ReleasedAnswer
from warehouse.queries.aggregates import count_cells
from warehouse.queries.areas import area_names


def count_table(
    session: Session,
    register: ProtocolRegister,
    tables: PerturbationTables,
    caller: Caller,
    params: AggregateParams,
    release: Recorder | None = None,
    memos: AnswerMemos | None = None,
) -> tuple[Resolved, CountsResponse]:
    """The disclosure-controlled counts for `params`, as the caller may see them; `release` (if any) is handed the
    protected table, returns it as it is released and says in `disclosure.withheld` what it withheld; `memos`:
    the protected table is the one made before for the same true cells and rule (`api.protection.protect_cells`)."""
    resolved = resolve(session, register, caller, params)
    cells, unlocated = count_cells(session, resolved.query)
    true_cells = period_table(params, cells, resolved.periods)
    memo = None if memos is None else memos.tables
    table = protect_cells(true_cells, resolved.rule, len(params.dimensions), tables, memo)
    if release is not None:
        table = release(resolved, table)
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
    labels = month_index(resolved.periods)
    unplaced: dict[tuple[str, str | None, str | None, str], KeyedCount] = {}
    for cell in unlocated:
        for label in labels.get(cell.month, ()):
            key = (cell.reason, cell.category, cell.dataset, label)
            unplaced[key] = unplaced.get(key, KeyedCount(0, 0)) + KeyedCount(cell.count, cell.key)
    unlocated_out = [
        UnlocatedOut(reason=r, category=c, dataset=d, period=p, count=protect_count(n, resolved.rule, tables))
        for (r, c, d, p), n in sorted(unplaced.items(), key=lambda i: (i[0][0], i[0][3], str(i[0][1]), str(i[0][2])))
    ]
    response = CountsResponse(
        datasets=list(params.datasets),
        level=params.level,
        period_type=params.period.value,
        periods=[p.label for p in resolved.periods],
        protocols=resolved.refs,
        disclosure=disclosure_out(table, sum(1 for u in unlocated_out if u.count is None), resolved.scopes),
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
    if release is not None:
        response.disclosure = release.disclosed(response.disclosure)
    return resolved, response


def count_answer(
    params: AggregateParams, resolved: Resolved, body: CountsResponse, released: ReleasedAnswer | None = None
) -> Answer[CountsResponse]:
    """The counts as an answer: located and unlocated rows recorded (and the figures `released`), the table for CSV
    and GeoJSON."""
    members: dict[str, Any] = {"disclosure": body.disclosure.model_dump(), "protocols": body.protocols}
    table = Table(
        rows=body.rows,
        columns=["area_code", "area_name", *params.dimensions[1:-1], "period", "count"],
        name="counts",
        rule=body.disclosure.rule,
        level=params.level,
        members=members,
    )
    return Answer(body, resolved.refs, len(body.rows) + len(body.unlocated), table, released)


def counts(
    session: Session,
    wards: WardParents,
    register: ProtocolRegister,
    tables: PerturbationTables,
    caller: Caller,
    params: AggregateParams,
    memos: AnswerMemos | None = None,
) -> Answer[CountsResponse]:
    """The disclosure-controlled counts for `params`, as the caller may see them: figures that, with those released
    to the caller's organisation before (by any endpoint), would give a suppressed count away by subtraction are
    withheld (`sharing_protocols.differencing`, saying why in `disclosure.withheld`); the figures released are
    kept in the release record (`api.released_figures.Recorder`). `memos`: a repeated answer's pure work (the
    protected table, the figures) is the one done before (`api.memo`)."""
    recorder = Recorder(session, wards, caller, params, memo=None if memos is None else memos.figures)
    resolved, body = count_table(session, register, tables, caller, params, recorder, memos)
    return count_answer(params, resolved, body, recorder.record())
