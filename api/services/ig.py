"""What information-governance leads see: the protocol register, flows, withheld events, reviews and access."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from api.answer import Answer, Table
from api.caller import Caller
from api.errors import Forbidden
from api.schemas.ig import (
    AccessOut,
    FieldRetentionOut,
    FlowOut,
    ProtocolOut,
    ReleasedFigureOut,
    ReleasesOut,
    ReleaseSummaryOut,
    WithheldOut,
)
from sharing_protocols.clause_rule import clause_disclosure, clause_rule_text
from sharing_protocols.decision import ProtocolRegister
from sharing_protocols.disclosure import protect_value, rule_for
from sharing_protocols.protocol import Protocol
from sharing_protocols.retention_register import retention_register
from warehouse.queries.ig import latest_access, released_flows, withheld_events
from warehouse.queries.releases import releases as released


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


def protocols(register: ProtocolRegister, caller: Caller) -> Answer[list[ProtocolOut]]:
    """The protocol register (those the caller's organisation is party to)."""
    visible = _visible(register, caller)
    out = []
    for p in visible:
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
                datasets_by_owner={o.id: list(o.datasets) for o in p.data_owners},
                recipients=[r.id for r in p.recipients],
                datasets=list(p.datasets),
                legal_gateways=[g.ref for g in p.legal_gateways],
                clauses=[c.model_dump(mode="json") | {"rule": clause_rule_text(c)} for c in p.clauses],
            )
        )
    return Answer(out, [p.label for p in visible], len(out))


def flows(
    session: Session, register: ProtocolRegister, caller: Caller, first: date, last: date
) -> Answer[list[FlowOut]]:
    """Events released into the warehouse, by protocol x clause x partner x recipient x month.

    A data owner sees the flows of its own events; a recipient sees what was released to it, under the
    clause's disclosure rule when the clause is aggregates-only; the hub operator sees everything.
    """
    visible = {p.label: p for p in _visible(register, caller)}
    out = []
    for flow in released_flows(session, first, last):
        label, _, clause_id = flow.ref.partition("#")
        protocol = visible.get(label)
        clause = next((c for c in protocol.clauses if c.id == clause_id), None) if protocol else None
        if clause is None:
            continue
        for recipient in clause.recipients:
            if caller.oversees_everything or caller.org == flow.partner:
                shown: int | None = flow.events
            elif caller.org == recipient:
                shown = protect_value(flow.events, rule_for([(flow.ref, clause_disclosure(clause))]))
            else:
                continue
            out.append(
                FlowOut(
                    protocol=label,
                    clause=clause_id,
                    partner=flow.partner,
                    recipient=recipient,
                    period=flow.period,
                    events=shown,
                )
            )
    return Answer(out, sorted(visible), len(out))


def withheld(session: Session, caller: Caller, first: date, last: date) -> Answer[list[WithheldOut]]:
    """Events withheld by the protocols, by reason, dataset, publishing partner and month."""
    partner = None if caller.oversees_everything else caller.org
    out = [
        WithheldOut(code=w.code, dataset=w.dataset, partner=w.partner, period=w.period, events=w.events)
        for w in withheld_events(session, first, last, partner)
    ]
    return Answer(out, rows=len(out))


def reviews(register: ProtocolRegister, caller: Caller, within_days: int) -> Answer[list[ProtocolOut]]:
    """Protocols whose review is due within `within_days` (or overdue)."""
    due = {p.label for p in register.due_for_review(_today(), within_days)}
    every = protocols(register, caller)
    listed = [p for p in every.body if p.label in due]
    return Answer(listed, every.protocols, len(listed))


def retention(register: ProtocolRegister, caller: Caller, on: date | None) -> Answer[list[FieldRetentionOut]]:
    """How long each field of each dataset is kept under the protocols in force on `on` (default today) that the
    caller's organisation is party to: the longest retention of the clauses releasing it, and which give it."""
    day = on or _today()
    kept = retention_register(register, day, include=lambda p: _involves(p, caller))
    out = [
        FieldRetentionOut(
            dataset=k.dataset,
            field=k.field,
            retention=str(k.retention),
            months=k.retention.months,
            days=k.retention.days,
            keep_until=k.keep_until,
            clauses=[str(ref) for ref in k.clauses],
            released_by=[str(ref) for ref in k.released_by],
        )
        for k in kept
    ]
    labels = sorted({ref.protocol for k in kept for ref in k.released_by})
    return Answer(out, labels, len(out))


def access_log(session: Session, caller: Caller, limit: int) -> Answer[list[AccessOut]]:
    """The latest API queries (by the caller's organisation, or all for the hub operator)."""
    records = latest_access(session, None if caller.oversees_everything else caller.org, limit)
    out = [AccessOut.model_validate(r, from_attributes=True) for r in records]
    return Answer(out, rows=len(out))


def _figure_out(row: ReleasedFigureOut) -> dict[str, object]:
    """A released figure as a CSV record (lists joined by spaces, a suppressed value empty)."""
    record = row.model_dump()
    record["areas"] = " ".join(row.areas)
    record["categories"] = "" if row.categories is None else " ".join(row.categories)
    return record


def releases(session: Session, caller: Caller, org: str | None, first: date, last: date) -> Answer[ReleasesOut]:
    """What was released to each organisation on days first..last: every figure, and per organisation, dataset and
    level how many were shown and suppressed. An IG lead sees its own organisation's; the hub operator anyone's."""
    if not caller.oversees_everything and org not in (None, caller.org):
        raise Forbidden("an IG lead sees what was released to its own organisation")
    whose = org if caller.oversees_everything else caller.org
    figures = []
    summary: dict[tuple[str, str, str], list[int]] = {}
    for r in released(session, whose, first, last):
        f = r.figure
        figures.append(
            ReleasedFigureOut(
                at=r.at,
                org=r.org,
                dataset=f.dataset,
                level=f.level,
                areas=sorted(f.areas),
                categories=None if f.categories is None else sorted(f.categories),
                period=f.period,
                first_month=f.first,
                last_month=f.last,
                value=f.value,
                suppressed=f.suppressed,
                rule=f"min {f.min_cell_count}, round {f.round_to}",
                clauses=list(f.clauses),
            )
        )
        counts = summary.setdefault((r.org, f.dataset, f.level), [0, 0])
        counts[f.suppressed] += 1
    body = ReleasesOut(
        summary=[
            ReleaseSummaryOut(org=o, dataset=d, level=lv, figures=s + x, shown=s, suppressed=x)
            for (o, d, lv), (s, x) in sorted(summary.items())
        ],
        figures=figures,
    )
    table = Table(
        rows=figures,
        columns=list(ReleasedFigureOut.model_fields),
        name="releases",
        rule="as released (see the rule column)",
        flatten=_figure_out,
    )
    return Answer(body, rows=len(figures), table=table)
