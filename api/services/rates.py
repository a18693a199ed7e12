"""Event rates per 1,000 (or 10,000, 100,000) of an ONS population, by area and period.

Each rate is computed from the released (disclosure-controlled) count, never the true one, so a public
denominator cannot give an unreleased count back; its 95% interval is the exact Poisson (Garwood) interval of the
released count, scaled, and widened for the perturbation's variance where the cell key method released the count
(`perturbed_interval`). A rate is per reported period (a quarter's count over the population), not annualised.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from statistics import NormalDist
from typing import Any

from sqlalchemy.orm import Session

from api.aggregate_query import AggregateParams, Resolved
from api.answer import Answer, Table
from api.caller import Caller
from api.errors import BadParameter
from api.perturbation_tables import PerturbationTables
from api.protection import perturbation_variance
from api.released_figures import Recorder
from api.schemas.counts import CountOut
from api.schemas.rates import DenominatorOut, NoDenominatorOut, RateOut, RatesResponse
from api.services.counts import count_table
from api.significance import rate_interval
from api.ward_parents import WardParents
from sharing_protocols.decision import ProtocolRegister
from sharing_protocols.disclosure import released_rate
from warehouse.queries.population import Denominator, available_denominators, denominators

CONFIDENCE = 0.95
ALLOWED_PER = (1000, 10000, 100000)


@dataclass(frozen=True)
class Population:
    """Which population figures a denominator uses, and the default `per` of its rates."""

    sex: str
    age_band: str
    description: str
    default_per: int


POPULATIONS: dict[str, Population] = {
    "persons": Population("persons", "all ages", "all residents (persons, all ages)", 1000),
    # The only figures by sex loaded are Census 2021's (TS009): females aged 16-64 at district level and above.
    "adult_females": Population("female", "16-64", "females aged 16-64 (Census 2021)", 10000),
    "adults": Population("persons", "18+", "residents aged 18 and over (persons 18+)", 1000),
}
BASIS = (
    "rate = released count / population x per, for each reported period as it stands (a quarter's or a financial "
    "year's rate is that period's count, not annualised); the population is the latest ONS figure loaded for the "
    "area; the 95% interval is the exact Poisson (Garwood) interval of the released count, scaled the same way. "
    "Rates use the released (disclosure-controlled) count, so none is shown where the count is suppressed."
)
PERTURBED_BASIS = (
    " The counts were perturbed by the cell key method: each interval is widened for the perturbation's variance V "
    "of the table, each side to the square root of its Poisson half-width squared plus (z x sqrt(V) scaled)^2, z "
    "the normal quantile of the confidence, and the lower end at least 0."
)


def _per(denominator: str, per: int | None) -> int:
    if per is None:
        return POPULATIONS[denominator].default_per
    if per not in ALLOWED_PER:
        raise BadParameter(f"per must be one of {', '.join(map(str, ALLOWED_PER))}")
    return per


def _whole(population: Decimal) -> int:
    return int(population.to_integral_value())


def perturbed_interval(count: int, population: float, per: float, variance: float) -> tuple[float, float]:
    """The rate's Garwood interval, each side widened in quadrature by z x the perturbation's standard deviation
    (scaled to the rate), the lower end at least 0; the Garwood interval itself when `variance` is 0."""
    lower, upper = rate_interval(count, population, per, CONFIDENCE)
    if variance == 0:
        return lower, upper
    rate = count / population * per
    extra = NormalDist().inv_cdf(0.5 + CONFIDENCE / 2) * math.sqrt(variance) / population * per
    return max(0.0, rate - math.hypot(rate - lower, extra)), rate + math.hypot(upper - rate, extra)


def _rate_row(row: CountOut, known: Denominator | None, missing: str, per: int, variance: float) -> RateOut:
    """One count's rate and interval (none without a usable denominator, or when the count is suppressed)."""
    rate: float | None
    interval: tuple[float, float] | None
    note: str | None
    if known is None:
        rate, interval, note = None, None, f"no denominator: {missing}"
    else:
        rate = released_rate(row.count, float(known.population), per)
        interval = None if row.count is None else perturbed_interval(row.count, float(known.population), per, variance)
        note = "count suppressed under the disclosure rule" if row.count is None else None
    return RateOut(
        area_code=row.area_code,
        area_name=row.area_name,
        category=row.category,
        dataset=row.dataset,
        period=row.period,
        count=row.count,
        population=None if known is None else _whole(known.population),
        rate=rate,
        rate_lower=None if interval is None else interval[0],
        rate_upper=None if interval is None else interval[1],
        note=note,
    )


def rate_table(
    session: Session,
    register: ProtocolRegister,
    tables: PerturbationTables,
    caller: Caller,
    params: AggregateParams,
    denominator: str,
    per: int,
    release: Recorder | None = None,
) -> tuple[Resolved, RatesResponse]:
    """Rates for `params` per `per` of the `denominator` population, from the counts as the caller may see them
    (released through `release`, if any, as /v1/counts releases them)."""
    population = POPULATIONS[denominator]
    resolved, counts = count_table(session, register, tables, caller, params, release)
    codes = sorted({row.area_code for row in counts.rows})
    found: dict[str, Denominator] = denominators(
        session, params.level.value, codes, population.sex, population.age_band
    )
    usable = {code: d for code, d in found.items() if d.population > 0}
    loaded = (population.sex, population.age_band) in available_denominators(session, params.level.value)
    missing = {
        code: (
            "the population recorded for the area is 0"
            if code in found
            else f"no {population.description} estimate for this area"
            if loaded
            else f"no {population.description} estimates are loaded for {params.level.value} areas"
        )
        for code in codes
        if code not in usable
    }
    variance = perturbation_variance(resolved.rule, tables)
    rows = [
        _rate_row(row, usable.get(row.area_code), missing.get(row.area_code, ""), per, variance) for row in counts.rows
    ]
    response = RatesResponse(
        datasets=counts.datasets,
        level=counts.level,
        period_type=counts.period_type,
        periods=counts.periods,
        protocols=counts.protocols,
        disclosure=counts.disclosure,
        denominator=denominator,
        denominator_description=population.description,
        sex=population.sex,
        age_band=population.age_band,
        per=per,
        confidence=CONFIDENCE,
        basis=BASIS + (PERTURBED_BASIS if variance else ""),
        denominators=[
            DenominatorOut(
                area_code=code, population=_whole(d.population), year=d.year, source=d.source, method=d.method
            )
            for code, d in sorted(usable.items())
        ],
        no_denominator=[NoDenominatorOut(area_code=code, reason=reason) for code, reason in sorted(missing.items())],
        rows=rows,
        unlocated=counts.unlocated,
    )
    return resolved, response


def rate_columns(params: AggregateParams) -> list[str]:
    """The CSV columns and GeoJSON properties of rates (the denominators' year and source among them)."""
    return [
        "area_code",
        "area_name",
        *params.dimensions[1:-1],
        "period",
        "count",
        "population",
        "population_year",
        "population_source",
        "rate",
        "rate_lower",
        "rate_upper",
        "note",
    ]


def rates(
    session: Session,
    wards: WardParents,
    register: ProtocolRegister,
    tables: PerturbationTables,
    caller: Caller,
    params: AggregateParams,
    denominator: str,
    per: int | None,
) -> Answer[RatesResponse]:
    """Rates for `params` per `per` of the `denominator` population (CSV and GeoJSON carry the denominators). The
    counts shown (the rows', not the margins: rates show none) are recorded and guarded as /v1/counts'."""
    recorder = Recorder(session, wards, caller, params, margins=False)
    resolved, body = rate_table(
        session, register, tables, caller, params, denominator, _per(denominator, per), recorder
    )
    years = {d.area_code: d for d in body.denominators}

    def flat(row: RateOut) -> dict[str, Any]:
        known = years.get(row.area_code)
        return row.model_dump() | {
            "population_year": None if known is None else known.year,
            "population_source": None if known is None else known.source,
        }

    members: dict[str, Any] = {
        "disclosure": body.disclosure.model_dump(),
        "protocols": body.protocols,
        "denominator": body.denominator_description,
        "per": body.per,
        "basis": body.basis,
        "no_denominator": [m.model_dump() for m in body.no_denominator],
    }
    table = Table(
        rows=body.rows,
        columns=rate_columns(params),
        name=f"rates_per_{body.per}_{body.denominator}",
        rule=body.disclosure.rule,
        level=params.level,
        members=members,
        flatten=flat,
    )
    return Answer(body, resolved.refs, len(body.rows) + len(body.unlocated), table, recorder.record())
