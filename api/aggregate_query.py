"""What every aggregate endpoint shares: its query parameters, the caller's clauses and rule, and period tables.

A query names datasets, a level, optionally areas (at the level or a coarser `area_level`), months from/to, a
period type and groupings; it is answered only from events released under clauses granting the caller, and every
figure is disclosure-controlled under the rule `sharing_protocols.figure_rule` chooses (`disclosure_rule`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

from sqlalchemy.orm import Session

from api.answer import Format
from api.bounds import check_span, check_year
from api.caller import PUBLIC, Caller
from api.errors import BadParameter, Forbidden, NoGrant, NotFound
from api.grants import grant_for_counts, scope_filters
from sharing_protocols.catalogue import CATALOGUE
from sharing_protocols.cell_key_release import KeyedCount
from sharing_protocols.decision import Grant, ProtocolRegister
from sharing_protocols.disclosure import Key, Rule
from sharing_protocols.figure_rule import Holding, MixedRules, figure_rule
from sharing_protocols.periods import Period, PeriodType, month_index, parse_month, periods, span
from sharing_protocols.perturbation import RECORD_KEY_MODULUS
from sharing_protocols.precision import SpatialPrecision
from sharing_protocols.protocol import ScopeLevel
from warehouse.queries.aggregates import Cell, CountQuery, Level, justifying_sets
from warehouse.queries.areas import ward_vintage_loaded
from warehouse.queries.scope import ScopeFilter

# The protocol precision a level needs: CSPs, counties and forces are made of whole districts.
PRECISION: dict[Level, SpatialPrecision] = {
    Level.ward: "ward",
    Level.lsoa: "lsoa",
    Level.lad: "district",
    Level.csp: "district",
    Level.county: "district",
    Level.pfa: "district",
}
# The level of a protocol's area codes (a recipient's area, a clause's scope).
SCOPE_AREA_LEVEL: dict[ScopeLevel, Level] = {
    "district": Level.lad,
    "csp": Level.csp,
    "county": Level.county,
    "pfa": Level.pfa,
}
FINENESS = (  # finest first
    Level.lsoa,
    Level.ward,
    Level.lad,
    Level.csp,
    Level.county,
    Level.pfa,
)
Grouping = Literal["category", "dataset"]


def month_param(name: str, value: str) -> date:
    """A YYYY-MM query parameter as the month's first day; BadParameter when not YYYY-MM, BadRequest when out of
    the years the API answers for (`api.bounds`)."""
    try:
        year, month = parse_month(value)
    except ValueError as exc:
        raise BadParameter(f"{name} {exc}") from None
    check_year(name, year)
    return date(year, month, 1)


def month_range(from_: str, to: str) -> tuple[date, date]:
    """The `from` and `to` months: BadParameter when either is not YYYY-MM or `to` comes first, BadRequest when
    out of bounds (years, span: `api.bounds`)."""
    start, end = month_param("from", from_), month_param("to", to)
    if end < start:
        raise BadParameter("to is before from")
    check_span(start, end)
    return start, end


def check_area_level(level: Level, area_level: Level | None, areas: Sequence[str]) -> Level:
    """The level of `areas` codes (default: `level`); BadParameter when it is finer than `level`."""
    within = area_level or level
    if areas and FINENESS.index(within) < FINENESS.index(level):
        raise BadParameter(f"area_level {within.value} is finer than level {level.value}")
    return within


@dataclass(frozen=True)
class AggregateParams:
    """The query parameters every aggregate endpoint takes."""

    datasets: tuple[str, ...]
    level: Level
    start: date
    end: date
    period: PeriodType
    by_category: bool
    by_dataset: bool
    areas: tuple[str, ...]
    area_level: Level
    categories: tuple[str, ...]
    vintage: str | None
    format: Format

    @property
    def dimensions(self) -> tuple[str, ...]:
        """The dimensions of a table of these counts, in key order."""
        groups = (("category",) if self.by_category else ()) + (("dataset",) if self.by_dataset else ())
        return ("area", *groups, "period")


def make_params(
    dataset: Sequence[str],
    from_: str,
    to: str,
    level: Level,
    period: PeriodType,
    by: Sequence[Grouping] | None,
    area: Sequence[str] | None,
    area_level: Level | None,
    category: Sequence[str] | None,
    vintage: str | None,
    format: Format,
) -> AggregateParams:
    """Checks and normalises the shared parameters (NotFound, BadParameter with the reason when they do not make
    sense)."""
    unknown = [d for d in dataset if d not in CATALOGUE]
    if unknown:
        raise NotFound(f"unknown dataset {unknown[0]!r}")
    start, end = month_range(from_, to)
    within = check_area_level(level, area_level, area or ())
    if vintage is not None and level is not Level.ward:
        raise BadParameter("vintage applies to level=ward only")
    groups = set(by or [])
    return AggregateParams(
        datasets=tuple(dict.fromkeys(dataset)),
        level=level,
        start=start,
        end=end,
        period=period,
        by_category="category" in groups,
        by_dataset="dataset" in groups,
        areas=tuple(area or ()),
        area_level=within,
        categories=tuple(category or ()),
        vintage=vintage,
        format=format,
    )


def recipient(caller: Caller) -> str:
    """Whose clauses answer an analytic query: the caller's organisation, or the public; partners are Forbidden."""
    if caller.role == "partner":
        raise Forbidden("partner keys publish feeds and read data quality, not analyses")
    return PUBLIC if caller.role == PUBLIC else caller.org


@dataclass(frozen=True)
class Resolved:
    """How a query is answered: the count query (months widened to whole periods), its periods and rule."""

    query: CountQuery
    periods: list[Period]
    refs: list[str]
    rule: Rule

    @property
    def scopes(self) -> tuple[ScopeFilter, ...]:
        return self.query.scopes


def resolve(session: Session, register: ProtocolRegister, caller: Caller, params: AggregateParams) -> Resolved:
    """The caller's clauses for every dataset (NoGrant naming the first refused), the rule, and the count query."""
    if params.vintage is not None and not ward_vintage_loaded(session, params.vintage):
        raise NotFound(f"no wards of vintage {params.vintage!r} are loaded")
    today = datetime.now(UTC).date()
    org = recipient(caller)
    need_category = params.by_category or bool(params.categories)
    grants = [
        grant
        for dataset in params.datasets
        for grant in grant_for_counts(register, org, dataset, PRECISION[params.level], need_category, today).grants
    ]
    refs = list(dict.fromkeys(str(g.ref) for g in grants))
    scopes = scope_filters(grants, org)
    found = periods(params.period, params.start, params.end)
    first, last = span(found)
    query = CountQuery(
        datasets=params.datasets,
        level=params.level,
        start=first,
        end=last,
        clause_refs=tuple(refs),
        by_category=params.by_category,
        by_dataset=params.by_dataset,
        areas=params.areas,
        area_level=params.area_level,
        categories=params.categories,
        vintage=params.vintage,
        scopes=scopes,
    )
    rule = disclosure_rule(session, grants, params.datasets, scopes, public=org == PUBLIC)
    return Resolved(query, found, refs, rule)


@dataclass(frozen=True)
class MonthlyGrant:
    """A dataset and level a recipient may have monthly counts of: the clauses' refs and their strictest rule."""

    dataset: str
    level: Level
    refs: tuple[str, ...]
    rule: Rule
    scopes: tuple[ScopeFilter, ...]  # the recipient's area under each scoped clause


def monthly_grants(register: ProtocolRegister, org: str, levels: Iterable[Level]) -> list[MonthlyGrant]:
    """Every dataset (by name) and level of `levels` the protocols in force let `org` have monthly counts of."""
    today = datetime.now(UTC).date()
    found = []
    for dataset in sorted(CATALOGUE):
        for level in levels:
            try:
                grants = grant_for_counts(register, org, dataset, PRECISION[level], False, today).grants
            except NoGrant:
                continue
            refs = tuple(dict.fromkeys(str(g.ref) for g in grants))
            own = {str(g.ref): g.disclosure for g in grants}
            rule = figure_rule({dataset: Holding(own)}, public=org == PUBLIC)  # the strictest of the clauses
            found.append(MonthlyGrant(dataset, level, refs, rule, scope_filters(grants, org)))
    return found


def disclosure_rule(
    session: Session,
    grants: Sequence[Grant],
    datasets: Sequence[str],
    scopes: Sequence[ScopeFilter],
    public: bool,
) -> Rule:
    """The rule of every figure counting `datasets` under `grants` (the caller's clauses permitting the figure,
    `scopes` their areas), as `sharing_protocols.figure_rule` chooses it from the clauses that justify the caller's
    events of each dataset; BadParameter when the datasets are under different rules (they are asked for apart)."""
    holdings = {}
    for dataset in datasets:
        own = {str(g.ref): g.disclosure for g in grants if dataset in g.clause.datasets}
        holdings[dataset] = Holding(own, justifying_sets(session, dataset, tuple(own), scopes))
    try:
        return figure_rule(holdings, public)
    except MixedRules as mixed:
        raise BadParameter(str(mixed)) from None


def key_of(params: AggregateParams, area: str, category: str | None, dataset: str | None, period: str) -> Key:
    """A table key in the order of `params.dimensions` (a tuple made at once: `period_table` asks per cell)."""
    if params.by_category:
        return (area, category, dataset, period) if params.by_dataset else (area, category, period)
    return (area, dataset, period) if params.by_dataset else (area, period)


def period_table(params: AggregateParams, cells: Sequence[Cell], found: Sequence[Period]) -> dict[Key, KeyedCount]:
    """Monthly cells (counts and cell keys) summed into the reported periods (a month may count in several rolling
    periods), in the order the cells first reach each key."""
    labels = month_index(found)
    sums: dict[Key, list[int]] = {}  # key -> [count, cell key]: one KeyedCount per key, made at the end
    for cell in cells:
        for label in labels.get(cell.month, ()):
            key = key_of(params, cell.area_code, cell.category, cell.dataset, label)
            summed = sums.get(key)
            if summed is None:
                sums[key] = [cell.count, cell.key]
            else:
                summed[0] += cell.count
                summed[1] += cell.key
    return {key: KeyedCount(count, cell_key % RECORD_KEY_MODULUS) for key, (count, cell_key) in sums.items()}
