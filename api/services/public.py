"""Publishable aggregates, for anyone, without a key: what clauses granting the public allow, by month and ward or
LSOA, under the rule every public route applies (`sharing_protocols.figure_rule`: a threshold rule at least the NHS
rule, a cell key rule as it is)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.access_log import PUBLIC_CALLER
from api.aggregate_query import AggregateParams, monthly_grants
from api.answer import Answer
from api.caller import PUBLIC
from api.errors import BadParameter
from api.perturbation_tables import PerturbationTables
from api.schemas.common import rule_members
from api.schemas.counts import CountsResponse
from api.schemas.public import PublicDatasetOut, PublicRuleOut
from api.services.counts import count_answer, count_table
from sharing_protocols.catalogue import CATALOGUE
from sharing_protocols.decision import ProtocolRegister
from sharing_protocols.periods import PeriodType
from warehouse.queries.aggregates import Level

PUBLIC_LEVELS = (Level.ward, Level.lsoa)


def datasets(register: ProtocolRegister) -> Answer[list[PublicDatasetOut]]:
    """Every dataset and level (ward, LSOA) the protocols in force let the public have monthly counts of."""
    out = []
    for grant in monthly_grants(register, PUBLIC, PUBLIC_LEVELS):
        out.append(
            PublicDatasetOut(
                dataset=grant.dataset,
                title=CATALOGUE[grant.dataset].title,
                level=grant.level,
                period=PeriodType.month,
                protocols=list(grant.refs),
                disclosure=PublicRuleOut(**rule_members(grant.rule)),
            )
        )
    return Answer(out, sorted({ref for entry in out for ref in entry.protocols}), len(out))


def counts(
    session: Session, register: ProtocolRegister, tables: PerturbationTables, params: AggregateParams
) -> Answer[CountsResponse]:
    """Monthly counts by ward or LSOA of what the public may have: GET /v1/counts as the public gets it."""
    if params.period is not PeriodType.month:
        raise BadParameter("public counts are by month only (period=month)")
    if params.level not in PUBLIC_LEVELS:
        raise BadParameter("public counts are by ward or lsoa only")
    resolved, body = count_table(session, register, tables, PUBLIC_CALLER, params)
    return count_answer(params, resolved, body)
