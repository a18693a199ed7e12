"""Each registered indicator for one CSP -- actual, target, RAG and direction of travel.

The actual figure covers the 12 months to the latest month with data less the indicator's data lag; the previous
figure the 12 months before. Both are disclosure-controlled counts (rates from the released counts), from events
released under the caller's clauses only, recorded and guarded as /v1/counts' figures are (`Recorder.apart`: a count
the differencing guard withholds makes the indicator not available, saying why); an indicator the caller's
protocols do not cover is listed as such.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from api.aggregate_query import disclosure_rule, month_param, recipient
from api.answer import Answer, Table
from api.caller import PUBLIC, Caller
from api.errors import NoGrant, NotFound
from api.grants import grant_for_counts
from api.perturbation_tables import PerturbationTables
from api.protection import protect_count
from api.released_figures import Recorder
from api.schemas.scorecard import ScorecardOut, ScorecardRowOut
from api.scorecard import Figure, ScorecardRow, Window, reporting_window, scorecard_row
from api.ward_parents import WardParents
from sharing_protocols.cell_key_release import KeyedCount
from sharing_protocols.decision import ProtocolRegister
from sharing_protocols.disclosure import Rule, released_rate
from sharing_protocols.release_record import ReleasedFigure
from warehouse.queries.aggregates import CountQuery, Level, data_months, total
from warehouse.queries.population import denominators
from warehouse.reference.indicator_registry import Indicator
from warehouse.reference.indicator_store import read_indicators

COLUMNS = (  # the CSV form: one record per indicator, the CSP first; the protocols are in the JSON form
    "csp",
    *(name for name in ScorecardRowOut.model_fields if name != "protocols"),
)


class _Unavailable(Exception):
    """An indicator that has no figure for this caller and area, and why."""


def measure(indicator: Indicator) -> str:
    """What the release record calls an indicator's counts: the dataset's name where they count its events (of its
    categories, if any), else (filtered on attributes) a measure of its own, never related to event counts."""
    return f"{indicator.dataset}:{indicator.id}" if indicator.attributes else indicator.dataset


def _protected(session: Session, query: CountQuery, rule: Rule, tables: PerturbationTables) -> int:
    count = protect_count(KeyedCount(*total(session, query)), rule, tables)
    if count is None:
        raise _Unavailable(f"the count is suppressed under the disclosure rule ({rule.describe()})")
    return count


def _released(
    session: Session,
    queries: Sequence[CountQuery],
    rule: Rule,
    tables: PerturbationTables,
    release: Recorder,
    indicator: Indicator,
) -> list[int]:
    """The counts of `queries` (the actual and previous window) as released: disclosure-controlled, then recorded
    and guarded together (`Recorder.apart`) as the indicator's figures over its CSP and months. Where one is
    withheld neither is shown, though both stay in the record (the guard then assumes more known, not less)."""
    counts = [_protected(session, query, rule, tables) for query in queries]
    figures = [
        ReleasedFigure(
            dataset=measure(indicator),
            level=Level.csp.value,
            areas=frozenset(query.areas),
            categories=frozenset(query.categories) or None,
            first=query.start,
            last=query.end,
            period=f"{query.start:%Y-%m} to {query.end:%Y-%m}",
            value=count,
            min_cell_count=rule.min_cell_count,
            round_to=rule.round_to,
            clauses=rule.clauses,
        )
        for query, count in zip(queries, counts, strict=True)
    ]
    reasons = len(release.reasons)
    shown = release.apart(Level.csp, rule, figures)
    if None in shown:
        raise _Unavailable(f"withheld: {'; '.join(release.reasons[reasons:])}")
    return [count for count in shown if count is not None]


def _row(
    session: Session,
    register: ProtocolRegister,
    tables: PerturbationTables,
    release: Recorder,
    org: str,
    indicator: Indicator,
    csp: str,
    as_of: date | None,
) -> ScorecardRowOut:
    today = datetime.now(UTC).date()
    try:
        grants = grant_for_counts(register, org, indicator.dataset, "district", bool(indicator.categories), today)
    except NoGrant as refused:
        raise _Unavailable(refused.detail) from None
    refs = tuple(str(g.ref) for g in grants.grants)
    months = None if as_of else data_months(session, [indicator.dataset], refs, grants.scopes)
    latest = as_of or (months[1] if months else None)
    if latest is None:
        raise _Unavailable("no data of this dataset under your protocols")
    window: Window = reporting_window(indicator, latest)

    def query(start: date, end: date) -> CountQuery:
        return CountQuery(
            datasets=(indicator.dataset,),
            level=Level.csp,
            start=start,
            end=end,
            clause_refs=refs,
            areas=(csp,),
            categories=tuple(indicator.categories or ()),
            attributes=tuple(indicator.attributes.items()),
            scopes=grants.scopes,
        )

    rule = disclosure_rule(session, grants.grants, (indicator.dataset,), grants.scopes, public=org == PUBLIC)
    windows = [query(window.start, window.end), query(window.previous_start, window.previous_end)]
    actual_n, previous_n = _released(session, windows, rule, tables, release, indicator)
    source = None
    if indicator.measure == "rate":
        spec = indicator.denominator
        if spec is None:
            raise _Unavailable("the indicator is a rate without a denominator")
        found = denominators(session, "csp", [csp], spec.sex, spec.age_band).get(csp)
        if found is None:
            raise _Unavailable(f"no {spec.sex} {spec.age_band} population is loaded for {csp}")
        source = f"{found.source}, {found.year} ({found.method})"
        actual_v = released_rate(actual_n, float(found.population), spec.per)
        previous_v = released_rate(previous_n, float(found.population), spec.per)
        if actual_v is None or previous_v is None:
            raise _Unavailable("the population is 0")
    else:
        actual_v, previous_v = float(actual_n), float(previous_n)
    row: ScorecardRow = scorecard_row(
        indicator, csp, window, Figure(actual_v, actual_n), Figure(previous_v, previous_n)
    )
    return ScorecardRowOut(
        indicator_id=indicator.id,
        title=indicator.title,
        status="ok",
        period_start=f"{row.period_start:%Y-%m}",
        period_end=f"{row.period_end:%Y-%m}",
        financial_year=row.financial_year,
        actual=row.actual,
        count=actual_n,
        target=row.target,
        target_is_area_override=row.target_is_area_override,
        rag=row.rag,
        previous=row.previous,
        change=row.change,
        change_pct=row.change_pct,
        significant=row.significant,
        direction_of_travel=row.direction_of_travel,
        provisional=row.provisional,
        denominator=source,
        disclosure=rule.describe(),
        protocols=list(refs),
    )


def scorecard(
    session: Session,
    wards: WardParents,
    register: ProtocolRegister,
    tables: PerturbationTables,
    caller: Caller,
    csp: str,
    indicator: Sequence[str] | None,
    as_of: str | None,
) -> Answer[ScorecardOut]:
    """Actual, target, RAG and direction of travel of each CSP-level indicator for one CSP."""
    org = recipient(caller)
    last = month_param("as_of", as_of) if as_of else None
    chosen = [e.indicator for e in read_indicators(session) if e.indicator.level == "csp"]
    if indicator:
        unknown = sorted(set(indicator) - {i.id for i in chosen})
        if unknown:
            raise NotFound(f"unknown CSP indicator {unknown[0]!r}")
        chosen = [i for i in chosen if i.id in indicator]
    release = Recorder(session, wards, caller)
    rows = []
    for item in chosen:
        try:
            rows.append(_row(session, register, tables, release, org, item, csp, last))
        except _Unavailable as why:
            rows.append(
                ScorecardRowOut(indicator_id=item.id, title=item.title, status="not_available", reason=str(why))
            )
    refs = sorted({ref for r in rows for ref in r.protocols})
    rules = "; ".join(sorted({r.disclosure for r in rows if r.disclosure}))
    table = Table(rows, COLUMNS, f"scorecard-{csp}", rules, flatten=lambda row: {"csp": csp, **row.model_dump()})
    return Answer(ScorecardOut(csp=csp, rows=rows), refs, len(rows), table, release.record())
