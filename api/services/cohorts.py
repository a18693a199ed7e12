"""Reoffending cohorts (probation / IOM) by CSP or district, cohort and cohort period, with the cohort size,
reoffenders, rate, predicted rate and difference, and the offenders not linked to an area."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy.orm import Session

from api.aggregate_query import check_area_level, month_range
from api.answer import Answer, Table
from api.caller import Caller
from api.linked_query import linked_grant, percent, protect_parts
from api.released_figures import UNLOCATED, Linked, LinkedRow, Recorder
from api.schemas.cohorts import CohortOut, CohortsResponse
from api.schemas.common import disclosure_out
from api.ward_parents import WardParents
from sharing_protocols.decision import ProtocolRegister
from sharing_protocols.disclosure import Rule
from warehouse.queries.aggregates import Level
from warehouse.queries.areas import area_names
from warehouse.queries.cohorts import PROBATION_IOM, CohortCell, CohortQuery, cohort_cells

FIELDS = ("category", "offender_pseudonym", "reoffended", "predicted_reoffending_rate")
PARTS = ("reoffended", "not_reoffended")
# What the release record calls the figures: offenders of a cohort, the reoffenders a category of them.
RELEASE = Linked(f"{PROBATION_IOM}:cohort-offenders", ("reoffended",), False)
DEFINITION = (
    "Offenders (distinct pseudonyms) in each cohort and cohort period, by the area of their home postcode. "
    "rate = reoffenders / cohort size x 100; predicted rate = the mean predicted reoffending rate of the cohort "
    "x 100 (shown only with its cohort size); difference = rate - predicted rate. Offenders with no code at the "
    "level are listed under `unlinked`."
)


def _period(cell: CohortCell) -> str:
    first, last = f"{cell.period_start:%Y-%m}", f"{cell.period_end:%Y-%m}"
    return first if first == last else f"{first}/{last}"


def _difference(rate: float | None, predicted: float | None) -> float | None:
    return None if rate is None or predicted is None else float(Decimal(str(rate)) - Decimal(str(predicted)))


def cohort_table(
    session: Session, query: CohortQuery, refs: list[str], rule: Rule, release: Recorder
) -> CohortsResponse:
    """The protected cohort figures for `query`, released through `release`; the predicted rate is shown only where
    the cohort size is."""
    cells = cohort_cells(session, query)
    found = protect_parts(
        [{"reoffended": c.reoffenders, "not_reoffended": c.offenders - c.reoffenders} for c in cells], PARTS, rule
    )
    rows = [
        LinkedRow(frozenset({c.area_code or UNLOCATED}), c.category, c.period_start, c.period_end, _period(c))
        for c in cells
    ]
    parts = release.linked(RELEASE, query.level, rule, rows, found)
    names = area_names(session, query.level, sorted({c.area_code for c in cells if c.area_code}))
    shown: list[CohortOut] = []
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
        (shown if cell.area_code else unlinked).append(out)
    return CohortsResponse(
        definition=DEFINITION,
        dataset=PROBATION_IOM,
        level=query.level,
        protocols=refs,
        disclosure=release.disclosed(disclosure_out(parts.table, scopes=query.scopes)),
        rows=shown,
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


def cohorts(
    session: Session,
    wards: WardParents,
    register: ProtocolRegister,
    caller: Caller,
    from_: str,
    to: str,
    level: Level,
    area: Sequence[str] | None,
    area_level: Level | None,
    cohort: Sequence[str] | None,
) -> Answer[CohortsResponse]:
    """The cohorts whose periods start in from..to; offenders are linked by pseudonym only under clauses granting
    the caller the fields and pseudonym linkage (NoGrant naming what is missing)."""
    start, end = month_range(from_, to)
    areas = tuple(area or ())
    within = check_area_level(level, area_level, areas)
    grant = linked_grant(session, register, caller, PROBATION_IOM, level, FIELDS)
    query = CohortQuery(level, start, end, tuple(grant.refs), areas, within, tuple(cohort or ()), grant.scopes)
    release = Recorder(session, wards, caller)
    body = cohort_table(session, query, grant.refs, grant.rule, release)
    table = Table([*body.rows, *body.unlinked], _COLUMNS, "cohorts", body.disclosure.rule)
    return Answer(body, grant.refs, len(body.rows) + len(body.unlinked), table, release.record())
