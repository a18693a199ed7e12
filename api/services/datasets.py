"""The datasets a caller may ask the aggregate endpoints about: for each, the levels and categories its clauses in
force allow and the months its events span (no figures: the counts themselves come from /v1/counts)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from api.aggregate_query import FINENESS, PRECISION, recipient
from api.answer import Answer
from api.caller import Caller
from api.errors import NoGrant
from api.grants import QueryGrant, grant_for_counts
from api.schemas.datasets import DatasetOut
from sharing_protocols.catalogue import CATALOGUE
from sharing_protocols.decision import ProtocolRegister
from warehouse.queries.aggregates import Level, data_categories, data_months

# A category is offered only when the caller's scope holds at least this many of its events in all: a list of the
# categories seen would otherwise tell that a rare one (one or two events, which /v1/counts suppresses) happened.
LISTED_CATEGORY_EVENTS = 10


def countable_levels(register: ProtocolRegister, org: str, name: str, today: date) -> dict[Level, QueryGrant]:
    """The levels at which `org`'s clauses in force on `today` let it count dataset `name`, finest first, each with
    its grant."""
    permitted: dict[Level, QueryGrant] = {}
    for level in FINENESS:
        try:
            permitted[level] = grant_for_counts(register, org, name, PRECISION[level], False, today)
        except NoGrant:
            continue
    return permitted


def countable_datasets(register: ProtocolRegister, org: str, today: date) -> list[str]:
    """The datasets `org`'s clauses in force on `today` let it count at some level, sorted (what GET /v1/datasets
    lists)."""
    return [name for name in sorted(CATALOGUE) if countable_levels(register, org, name, today)]


def datasets(session: Session, register: ProtocolRegister, caller: Caller) -> Answer[list[DatasetOut]]:
    """Every dataset the caller's clauses in force let it count at some level (Forbidden for a partner key)."""
    org = recipient(caller)
    today = datetime.now(UTC).date()
    out = []
    for name in sorted(CATALOGUE):
        permitted = countable_levels(register, org, name, today)
        if not permitted:
            continue
        widest = permitted[list(permitted)[-1]]  # the coarsest level: every clause permitting a finer one, and more
        try:
            by_category = grant_for_counts(register, org, name, PRECISION[list(permitted)[-1]], True, today)
        except NoGrant:
            by_category = None
        months = data_months(session, [name], widest.refs, widest.scopes)
        categories = (
            data_categories(session, name, by_category.refs, by_category.scopes, LISTED_CATEGORY_EVENTS)
            if by_category
            else []
        )
        out.append(
            DatasetOut(
                dataset=name,
                title=CATALOGUE[name].title,
                kind=CATALOGUE[name].kind,
                levels=list(permitted),
                by_category=by_category is not None,
                categories=categories,
                first_month=None if months is None else f"{months[0]:%Y-%m}",
                last_month=None if months is None else f"{months[1]:%Y-%m}",
                protocols=widest.refs,
            )
        )
    return Answer(out, sorted({ref for entry in out for ref in entry.protocols}), len(out))
