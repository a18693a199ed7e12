"""GET /v1/public/counts and /v1/public/datasets: publishable aggregates, for anyone, without a key.

The caller is always the public: the Authorization header is never read, so a key (valid or not) is ignored and
the answer is the same as without one. Only what protocol clauses granting the public allow is counted; periods
are months, levels ward or LSOA; every figure is disclosure-controlled under at least the NHS rule (counts of 1-7
suppressed, the rest rounded to 5, secondary suppression): where a clause sets a laxer rule of its own (e.g. for
records already published one by one) the stricter of the two applies, and the response says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel

from api.access_log import Access, record_access
from api.aggregate_query import PRECISION, AggregateParamsDep, resolve
from api.auth import PUBLIC, Caller
from api.dependencies import EngineDep, GeographyDep, RegisterDep, SessionDep
from api.disclosure import DEFAULT_RULE, Rule, rule_for
from api.grants import grant_for_counts
from api.periods import PeriodType
from api.routes.counts import CountsResponse, count_table, render
from sharing_protocols.catalogue import CATALOGUE
from sharing_protocols.decision import ProtocolRegister
from sharing_protocols.protocol import DisclosureControl
from warehouse.aggregates import Level

router = APIRouter(prefix="/v1/public", tags=["public"])

PUBLIC_CALLER = Caller(PUBLIC, PUBLIC)
PUBLIC_LEVELS = (Level.ward, Level.lsoa)


def public_access(request: Request, engine: EngineDep) -> Iterator[Access]:
    """The access record of a public request: always as the public, whatever key was sent."""
    yield from record_access(request, PUBLIC_CALLER, engine)


PublicAccessDep = Annotated[Access, Depends(public_access)]


def floor_rule(rule: Rule) -> Rule:
    """The rule raised to at least the NHS rule; "combined" (naming the clauses) where that made it stricter."""
    if rule.min_cell_count >= DEFAULT_RULE.min_cell_count and rule.round_to >= DEFAULT_RULE.round_to:
        return rule
    return Rule(
        max(rule.min_cell_count, DEFAULT_RULE.min_cell_count),
        max(rule.round_to, DEFAULT_RULE.round_to),
        "combined",
        rule.clauses,
    )


def _floor(control: DisclosureControl | None) -> DisclosureControl | None:
    if control is None:  # no rule of its own: the NHS rule applies anyway
        return None
    return DisclosureControl(
        min_cell_count=max(control.min_cell_count, DEFAULT_RULE.min_cell_count),
        round_to=max(control.round_to, DEFAULT_RULE.round_to),
    )


@lru_cache(maxsize=4)
def public_register(register: ProtocolRegister) -> ProtocolRegister:
    """The register with every clause's own disclosure rule raised to at least the NHS rule."""
    return ProtocolRegister(
        protocol.model_copy(
            update={
                "clauses": tuple(
                    clause.model_copy(update={"disclosure": _floor(clause.disclosure)}) for clause in protocol.clauses
                )
            }
        )
        for protocol in register
    )


class PublicRuleOut(BaseModel):
    """The disclosure rule public figures of a dataset are released under."""

    rule: str
    source: str
    min_cell_count: int
    round_to: int
    clauses: list[str]


class PublicDatasetOut(BaseModel):
    """A dataset the public may have counts of, at one level (months only)."""

    dataset: str
    title: str
    level: Level
    period: PeriodType
    protocols: list[str]
    disclosure: PublicRuleOut


@router.get("/datasets", response_model=list[PublicDatasetOut])
def public_datasets(register: RegisterDep, access: PublicAccessDep) -> list[PublicDatasetOut]:
    """Every dataset and level (ward, LSOA) the protocols in force let the public have monthly counts of."""
    today = datetime.now(UTC).date()
    out = []
    for dataset in sorted(CATALOGUE):
        for level in PUBLIC_LEVELS:
            try:
                grants = grant_for_counts(register, PUBLIC, dataset, PRECISION[level], False, today).grants
            except HTTPException:
                continue
            refs = list(dict.fromkeys(str(g.ref) for g in grants))
            rule = floor_rule(rule_for([(str(g.ref), g.clause.disclosure) for g in grants]))
            out.append(
                PublicDatasetOut(
                    dataset=dataset,
                    title=CATALOGUE[dataset].title,
                    level=level,
                    period=PeriodType.month,
                    protocols=refs,
                    disclosure=PublicRuleOut(
                        rule=rule.describe(),
                        source=rule.source,
                        min_cell_count=rule.min_cell_count,
                        round_to=rule.round_to,
                        clauses=list(rule.clauses),
                    ),
                )
            )
    access.protocols = sorted({ref for entry in out for ref in entry.protocols})
    access.rows = len(out)
    return out


@router.get("/counts", response_model=CountsResponse)
def public_counts(
    session: SessionDep,
    register: RegisterDep,
    access: PublicAccessDep,
    params: AggregateParamsDep,
    geography: GeographyDep,
) -> CountsResponse | Response:
    """Monthly counts by ward or LSOA of what the public may have (json, csv or geojson), as GET /v1/counts.

    No key is needed and any key is ignored. Figures are released under the stricter of the NHS rule and the
    clauses' own rules; the response says which rule applied.
    """
    if params.period is not PeriodType.month:
        raise HTTPException(status_code=422, detail="public counts are by month only (period=month)")
    if params.level not in PUBLIC_LEVELS:
        raise HTTPException(status_code=422, detail="public counts are by ward or lsoa only")
    own = resolve(session, register, PUBLIC_CALLER, params).rule  # the clauses' own rule, before the floor
    answer, body = count_table(session, public_register(register), PUBLIC_CALLER, params)
    rule = answer.rule
    if own.min_cell_count < DEFAULT_RULE.min_cell_count or own.round_to < DEFAULT_RULE.round_to:
        rule = Rule(rule.min_cell_count, rule.round_to, "combined", own.clauses)
    body.disclosure = body.disclosure.model_copy(
        update={
            "rule": rule.describe(),
            "source": rule.source,
            "min_cell_count": rule.min_cell_count,
            "round_to": rule.round_to,
            "clauses": list(rule.clauses),
        }
    )
    access.protocols = answer.refs
    access.rows = len(body.rows) + len(body.unlocated)
    return render(session, geography, params, body)
