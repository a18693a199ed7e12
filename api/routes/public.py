"""GET /v1/public/counts and /v1/public/datasets: publishable aggregates, for anyone, without a key.

The caller is always the public: the Authorization header is never read, so a key (valid or not) is ignored and
the answer is the same as without one. Only what protocol clauses granting the public allow is counted; periods
are months, levels ward or LSOA; every figure is disclosure-controlled: under a threshold rule at least the NHS rule
(counts of 1-7 suppressed, the rest rounded to 5, secondary suppression): where a clause sets a laxer rule of its own
(e.g. for records already published one by one) the stricter of the two applies, and the response says so; under a
cell key clause by the cell key method, the same figure as any other route gives for the same events.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from api.dependencies import RegisterDep, SessionDep, TablesDep
from api.params import AggregateParamsDep
from api.reply import PublicReplyDep
from api.schemas.counts import CountsResponse
from api.schemas.public import PublicDatasetOut
from api.services import public as service

router = APIRouter(prefix="/v1/public", tags=["public"])


@router.get("/datasets", response_model=list[PublicDatasetOut])
def public_datasets(register: RegisterDep, reply: PublicReplyDep) -> list[PublicDatasetOut]:
    """Every dataset and level (ward, LSOA) the protocols in force let the public have monthly counts of."""
    return reply(service.datasets(register))


@router.get("/counts", response_model=CountsResponse)
def public_counts(
    session: SessionDep,
    register: RegisterDep,
    tables: TablesDep,
    reply: PublicReplyDep,
    params: AggregateParamsDep,
) -> CountsResponse | Response:
    """Monthly counts by ward or LSOA of what the public may have (json, csv or geojson), as GET /v1/counts.

    No key is needed and any key is ignored. Figures are released under the rule every public route applies (a
    threshold rule at least the NHS rule, a cell key rule as it is; docs/protocols.md, "Which rule a figure gets");
    the response says which rule applied.
    """
    return reply(service.counts(session, register, tables, params), params.format)
