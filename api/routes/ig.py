"""Endpoints for information-governance leads: the protocol register, flows, withheld events, reviews, access."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import text

from api.access_log import AccessDep
from api.auth import Caller, IgLeadDep
from api.dependencies import RegisterDep, SessionDep
from sharing_protocols.decision import ProtocolRegister
from sharing_protocols.disclosure import protect_value, rule_for
from sharing_protocols.protocol import Protocol

router = APIRouter(prefix="/v1/ig", tags=["information governance"])


def _involves(protocol: Protocol, caller: Caller) -> bool:
    return (
        caller.oversees_everything
        or caller.org in protocol.owner_ids
        or any(r.id == caller.org for r in protocol.recipients)
    )


def _visible(register: ProtocolRegister, caller: Caller) -> list[Protocol]:
    return [p for p in register.protocols if _involves(p, caller)]


def _today() -> date:
    return datetime.now(UTC).date()


class ProtocolOut(BaseModel):
    label: str
    title: str
    status: str
    in_force: bool
    not_in_force_reason: str | None
    valid_from: date
    review_due: date
    expires: date | None
    data_owners: list[str]
    recipients: list[str]
    datasets: list[str]
    legal_gateways: list[str]
    clauses: list[dict[str, Any]]


@router.get("/protocols", response_model=list[ProtocolOut])
def protocols(caller: IgLeadDep, register: RegisterDep, access: AccessDep) -> list[ProtocolOut]:
    """The protocol register (those the caller's organisation is party to)."""
    out = []
    for p in _visible(register, caller):
        reason = register.not_in_force_reason(p, _today())
        out.append(
            ProtocolOut(
                label=p.label,
                title=p.title,
                status=p.status,
                in_force=reason is None,
                not_in_force_reason=reason,
                valid_from=p.valid_from,
                review_due=p.review_due,
                expires=p.expires,
                data_owners=sorted(p.owner_ids),
                recipients=[r.id for r in p.recipients],
                datasets=list(p.datasets),
                legal_gateways=[g.ref for g in p.legal_gateways],
                clauses=[c.model_dump(mode="json") for c in p.clauses],
            )
        )
    access.protocols, access.rows = [p.label for p in _visible(register, caller)], len(out)
    return out


class FlowOut(BaseModel):
    protocol: str
    clause: str
    partner: str
    recipient: str
    period: str
    events: int | None  # None: suppressed under the clause's disclosure rule


@router.get("/flows", response_model=list[FlowOut])
def flows(
    caller: IgLeadDep,
    register: RegisterDep,
    session: SessionDep,
    access: AccessDep,
    from_: Annotated[date, Query(alias="from")] = date(1900, 1, 1),
    to: Annotated[date, Query()] = date(2999, 12, 31),
) -> list[FlowOut]:
    """Events released into the warehouse, by protocol x clause x partner x recipient x month.

    A data owner sees the flows of its own events; a recipient sees what was released to it, under the
    clause's disclosure rule when the clause is aggregates-only; the hub operator sees everything.
    """
    visible = {p.label: p for p in _visible(register, caller)}
    rows = session.execute(
        text(
            "SELECT ref, partner, to_char(period_month, 'YYYY-MM'), count(DISTINCT event_id) "
            "FROM decision, unnest(protocols) AS ref "
            "WHERE outcome = 'released' AND period_month BETWEEN :f AND :t GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
        ),
        {"f": from_, "t": to},
    ).all()
    out = []
    for ref, partner, period, events in rows:
        label, _, clause_id = str(ref).partition("#")
        protocol = visible.get(label)
        clause = next((c for c in protocol.clauses if c.id == clause_id), None) if protocol else None
        if clause is None:
            continue
        for recipient in clause.recipients:
            if caller.oversees_everything or caller.org == partner:
                shown: int | None = events
            elif caller.org == recipient:
                shown = protect_value(events, rule_for([(str(ref), clause.disclosure)]))
            else:
                continue
            out.append(
                FlowOut(
                    protocol=label, clause=clause_id, partner=partner, recipient=recipient, period=period, events=shown
                )
            )
    access.protocols, access.rows = sorted(visible), len(out)
    return out


class WithheldOut(BaseModel):
    code: str
    dataset: str
    partner: str
    period: str
    events: int


@router.get("/withheld", response_model=list[WithheldOut])
def withheld(
    caller: IgLeadDep,
    session: SessionDep,
    access: AccessDep,
    from_: Annotated[date, Query(alias="from")] = date(1900, 1, 1),
    to: Annotated[date, Query()] = date(2999, 12, 31),
) -> list[WithheldOut]:
    """Events withheld by the protocols, by reason, dataset, publishing partner and month."""
    rows = session.execute(
        text(
            "SELECT code, dataset, partner, to_char(period_month, 'YYYY-MM'), count(*) FROM decision "
            "WHERE outcome = 'withheld' AND period_month BETWEEN :f AND :t AND (:all OR partner = :org) "
            "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
        ),
        {"f": from_, "t": to, "all": caller.oversees_everything, "org": caller.org},
    ).all()
    out = [WithheldOut(code=r[0], dataset=r[1], partner=r[2], period=r[3], events=r[4]) for r in rows]
    access.rows = len(out)
    return out


@router.get("/reviews", response_model=list[ProtocolOut])
def reviews(
    caller: IgLeadDep, register: RegisterDep, access: AccessDep, within_days: Annotated[int, Query(ge=0)] = 90
) -> list[ProtocolOut]:
    """Protocols whose review is due within `within_days` (or overdue)."""
    due = {p.label for p in register.due_for_review(_today(), within_days)}
    listed = [p for p in protocols(caller, register, access) if p.label in due]
    access.rows = len(listed)
    return listed


class AccessOut(BaseModel):
    at: datetime
    org: str
    role: str
    endpoint: str
    query: dict[str, Any]
    protocols: list[str]
    rows: int
    status: int


@router.get("/access-log", response_model=list[AccessOut])
def access_log(
    caller: IgLeadDep, session: SessionDep, access: AccessDep, limit: Annotated[int, Query(ge=1, le=10_000)] = 100
) -> list[AccessOut]:
    """The latest API queries (by the caller's organisation, or all for the hub operator)."""
    rows = session.execute(
        text(
            "SELECT at, org, role, endpoint, query, protocols, rows, status FROM access_log "
            "WHERE :all OR org = :org ORDER BY id DESC LIMIT :limit"
        ),
        {"all": caller.oversees_everything, "org": caller.org, "limit": limit},
    ).all()
    access.rows = len(rows)
    return [
        AccessOut(at=r[0], org=r[1], role=r[2], endpoint=r[3], query=r[4], protocols=list(r[5]), rows=r[6], status=r[7])
        for r in rows
    ]
