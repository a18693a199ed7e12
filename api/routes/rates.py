"""GET /v1/rates: event rates per 1,000 (or 10,000, 100,000) of an ONS population, by area and period.

Each rate is computed from the released (disclosure-controlled) count, never the true one, so a public
denominator cannot give an unreleased count back; its 95% interval is the exact Poisson (Garwood) interval of the
released count, scaled. A rate is per reported period (a quarter's count over the population), not annualised.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api.access_log import AccessDep
from api.aggregate_query import AggregateParams, AggregateParamsDep, Answer
from api.auth import Caller, CallerDep
from api.dependencies import GeographyDep, RegisterDep, SessionDep
from api.disclosure import released_rate
from api.formats import area_features, csv_response, geojson_response
from api.routes.counts import AreaPeriodOut, DisclosureOut, UnlocatedOut, count_table
from api.significance import rate_interval
from sharing_protocols.decision import ProtocolRegister
from warehouse.aggregates import Level
from warehouse.geocoder_settings import GeocoderSettings
from warehouse.population import Denominator, available_denominators, denominators

router = APIRouter(prefix="/v1", tags=["rates"])

DenominatorName = Literal["persons", "adult_females", "adults"]
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


class RateOut(AreaPeriodOut):
    count: int | None  # the released count; None: suppressed
    population: int | None  # None: no denominator for the area
    rate: float | None
    rate_lower: float | None
    rate_upper: float | None
    note: str | None = None  # why the rate is null


class DenominatorOut(BaseModel):
    """An area's denominator: the figure, the year it is for, the ONS product and how it was derived."""

    area_code: str
    population: int
    year: int
    source: str
    method: str


class NoDenominatorOut(BaseModel):
    area_code: str
    reason: str


class RatesResponse(BaseModel):
    datasets: list[str]
    level: Level
    period_type: str
    periods: list[str]
    protocols: list[str]
    disclosure: DisclosureOut
    denominator: str
    denominator_description: str
    sex: str
    age_band: str
    per: int
    confidence: float
    basis: str
    denominators: list[DenominatorOut]
    no_denominator: list[NoDenominatorOut]
    rows: list[RateOut]
    unlocated: list[UnlocatedOut]


def _per(denominator: str, per: int | None) -> int:
    if per is None:
        return POPULATIONS[denominator].default_per
    if per not in ALLOWED_PER:
        raise HTTPException(status_code=422, detail=f"per must be one of {', '.join(map(str, ALLOWED_PER))}")
    return per


def _whole(population: Decimal) -> int:
    return int(population.to_integral_value())


def rate_table(
    session: Session,
    register: ProtocolRegister,
    caller: Caller,
    params: AggregateParams,
    denominator: str,
    per: int,
) -> tuple[Answer, RatesResponse]:
    """Rates for `params` per `per` of the `denominator` population, from the counts as the caller may see them."""
    population = POPULATIONS[denominator]
    answer, counts = count_table(session, register, caller, params)
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
    rows = []
    for row in counts.rows:
        known = usable.get(row.area_code)
        rate: float | None
        interval: tuple[float, float] | None
        note: str | None
        if known is None:
            rate, interval, note = None, None, f"no denominator: {missing[row.area_code]}"
        else:
            rate = released_rate(row.count, float(known.population), per)
            interval = None if row.count is None else rate_interval(row.count, float(known.population), per, CONFIDENCE)
            note = "count suppressed under the disclosure rule" if row.count is None else None
        rows.append(
            RateOut(
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
        )
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
        basis=BASIS,
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
    return answer, response


def render(
    session: Session, geography: GeocoderSettings, params: AggregateParams, body: RatesResponse
) -> RatesResponse | Response:
    """The rates in the format asked for (CSV and GeoJSON carry the denominators as columns/properties)."""
    years = {d.area_code: d for d in body.denominators}
    columns = [
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

    def flat(row: RateOut) -> dict[str, Any]:
        known = years.get(row.area_code)
        return row.model_dump() | {
            "population_year": None if known is None else known.year,
            "population_source": None if known is None else known.source,
        }

    if params.format == "csv":
        name = f"rates_per_{body.per}_{body.denominator}"
        return csv_response([flat(r) for r in body.rows], columns, name, body.disclosure.rule)
    if params.format == "geojson":
        features = area_features(session, geography, params.level, [flat(r) for r in body.rows], columns)
        members: dict[str, Any] = {
            "disclosure": body.disclosure.model_dump(),
            "protocols": body.protocols,
            "denominator": body.denominator_description,
            "per": body.per,
            "basis": body.basis,
            "no_denominator": [m.model_dump() for m in body.no_denominator],
        }
        return geojson_response(features, **members)
    return body


@router.get("/rates", response_model=RatesResponse)
def rates(
    session: SessionDep,
    caller: CallerDep,
    register: RegisterDep,
    access: AccessDep,
    params: AggregateParamsDep,
    geography: GeographyDep,
    denominator: Annotated[
        DenominatorName,
        Query(description="persons (all ages), adult_females (females 16-64, Census 2021) or adults (persons 18+)"),
    ] = "persons",
    per: Annotated[
        int | None, Query(description="1000, 10000 or 100000 (default 1000; 10000 for adult_females)")
    ] = None,
) -> RatesResponse | Response:
    """Rates per area and period: released count / ONS population x per, with a 95% interval.

    The same parameters and disclosure control as /v1/counts; each denominator's source, year and method is
    stated, and an area without a denominator gets no rate, with the reason. Rates are per period, not annualised.
    """
    answer, body = rate_table(session, register, caller, params, denominator, _per(denominator, per))
    access.protocols = answer.refs
    access.rows = len(body.rows) + len(body.unlocated)
    return render(session, geography, params, body)
