"""Publishable aggregates, for anyone, without a key: what clauses granting the public allow, by month and ward or
LSOA, under at least the NHS rule (the stricter of it and a clause's own rule applies, and the answer says so)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.access_log import PUBLIC_CALLER
from api.aggregate_query import AggregateParams, monthly_grants, resolve
from api.answer import Answer
from api.caller import PUBLIC
from api.errors import BadParameter
from api.schemas.counts import CountsResponse
from api.schemas.public import PublicDatasetOut, PublicRuleOut
from api.services.counts import count_answer, count_table
from sharing_protocols.catalogue import CATALOGUE
from sharing_protocols.decision import ProtocolRegister
from sharing_protocols.disclosure import DEFAULT_RULE, DisclosureControl, Rule
from sharing_protocols.periods import PeriodType
from warehouse.queries.aggregates import Level

PUBLIC_LEVELS = (Level.ward, Level.lsoa)


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


def floor_register(register: ProtocolRegister) -> ProtocolRegister:
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


def datasets(register: ProtocolRegister) -> Answer[list[PublicDatasetOut]]:
    """Every dataset and level (ward, LSOA) the protocols in force let the public have monthly counts of."""
    out = []
    for grant in monthly_grants(register, PUBLIC, PUBLIC_LEVELS):
        rule = floor_rule(grant.rule)
        out.append(
            PublicDatasetOut(
                dataset=grant.dataset,
                title=CATALOGUE[grant.dataset].title,
                level=grant.level,
                period=PeriodType.month,
                protocols=list(grant.refs),
                disclosure=PublicRuleOut(
                    rule=rule.describe(),
                    source=rule.source,
                    min_cell_count=rule.min_cell_count,
                    round_to=rule.round_to,
                    clauses=list(rule.clauses),
                ),
            )
        )
    return Answer(out, sorted({ref for entry in out for ref in entry.protocols}), len(out))


def counts(
    session: Session, register: ProtocolRegister, floored: ProtocolRegister, params: AggregateParams
) -> Answer[CountsResponse]:
    """Monthly counts by ward or LSOA of what the public may have, as GET /v1/counts; `floored` is
    `floor_register(register)`. The disclosure member names the clauses' own rule where the floor made it stricter.
    """
    if params.period is not PeriodType.month:
        raise BadParameter("public counts are by month only (period=month)")
    if params.level not in PUBLIC_LEVELS:
        raise BadParameter("public counts are by ward or lsoa only")
    own = resolve(session, register, PUBLIC_CALLER, params).rule  # the clauses' own rule, before the floor
    resolved, body = count_table(session, floored, PUBLIC_CALLER, params)
    rule = resolved.rule
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
    return count_answer(params, resolved, body)
