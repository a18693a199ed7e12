"""What information-governance leads see: the protocol register and its protocols' terms and changes, flows, withheld
events, reviews, retention (register, runs, retractions) and access."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from api.answer import Answer, Table
from api.caller import Caller
from api.errors import Forbidden, NotFound
from api.paging import Page
from api.schemas.ig import (
    AccessOut,
    ChangeOut,
    FieldRetentionOut,
    FlowOut,
    ProtocolDiffOut,
    ProtocolOut,
    ProtocolTermsOut,
    ReleasedFigureOut,
    ReleasesOut,
    ReleaseSummaryOut,
    RetentionRunOut,
    RetractionOut,
    WithheldOut,
)
from sharing_protocols.clause_rule import clause_disclosure, clause_rule_text
from sharing_protocols.decision import ProtocolRegister
from sharing_protocols.disclosure import protect_value, rule_for
from sharing_protocols.protocol import Protocol
from sharing_protocols.protocol_diff import protocol_changes
from sharing_protocols.protocol_words import clause_terms
from sharing_protocols.retention_register import retention_register
from warehouse.queries.ig import (
    AccessFilter,
    access_records,
    released_flows,
    withheld_events,
)
from warehouse.queries.ig import (
    retention_runs as runs_of,
)
from warehouse.queries.ig import retractions as retractions_of
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


def _protocol_out(register: ProtocolRegister, p: Protocol) -> ProtocolOut:
    reason = register.not_in_force_reason(p, _today())
    return ProtocolOut(
        label=p.label,
        id=p.id,
        version=p.version,
        title=p.title,
        status=p.status,
        in_force=reason is None,
        not_in_force_reason=reason,
        valid_from=p.valid_from,
        review_due=p.review_due,
        expires=p.expires,
        dpia_reference=p.dpia_reference,
        signatories=[f"{s.role}, {s.organisation}" for s in p.signatories],
        data_owners=sorted(p.owner_ids),
        datasets_by_owner={o.id: list(o.datasets) for o in p.data_owners},
        recipients=[r.id for r in p.recipients],
        datasets=list(p.datasets),
        legal_gateways=[g.ref for g in p.legal_gateways],
        clauses=[c.model_dump(mode="json") | {"rule": clause_rule_text(c)} for c in p.clauses],
    )


PROTOCOL_COLUMNS = [name for name in ProtocolOut.model_fields if name not in ("datasets_by_owner", "clauses")]


def _protocol_record(row: ProtocolOut) -> dict[str, object]:
    """A protocol as a CSV record: lists joined by "; ", its clauses by their ids."""
    record = row.model_dump(include=set(PROTOCOL_COLUMNS))
    for name in ("signatories", "data_owners", "recipients", "datasets", "legal_gateways"):
        record[name] = "; ".join(record[name])
    record["clauses"] = "; ".join(str(c["id"]) for c in row.clauses)
    return record


def protocols(register: ProtocolRegister, caller: Caller, due_within: int | None = None) -> Answer[list[ProtocolOut]]:
    """The protocol register (those the caller's organisation is party to); with `due_within`, only those due for
    review or expiring within that many days (overdue ones included), the sooner date first."""
    visible = _visible(register, caller)
    if due_within is not None:
        labels = {p.label for p in visible}
        visible = [p for p in register.needing_attention(_today(), due_within) if p.label in labels]
    out = [_protocol_out(register, p) for p in visible]
    table = Table(
        rows=out,
        columns=[*PROTOCOL_COLUMNS, "clauses"],
        name="protocols",
        rule="not applicable (the register's own terms)",
        flatten=_protocol_record,
    )
    return Answer(out, [p.label for p in visible], len(out), table)


def _versions(register: ProtocolRegister, caller: Caller, protocol_id: str) -> dict[int, Protocol]:
    """The versions of `protocol_id` the caller's organisation is party to; NotFound when there are none."""
    found = {p.version: p for p in _visible(register, caller) if p.id == protocol_id}
    if not found:
        raise NotFound(f"no protocol {protocol_id} that your organisation is party to")
    return found


def _version(versions: dict[int, Protocol], protocol_id: str, version: int | None, name: str) -> Protocol:
    if version is None:
        return versions[max(versions)]
    if version not in versions:
        raise NotFound(f"{name}: protocol {protocol_id} has no version {version} that your organisation is party to")
    return versions[version]


def protocol_terms(
    register: ProtocolRegister, caller: Caller, protocol_id: str, version: int | None
) -> Answer[ProtocolTermsOut]:
    """One version of a protocol (the highest the caller may see by default), its clauses in plain words."""
    versions = _versions(register, caller, protocol_id)
    p = _version(versions, protocol_id, version, "version")
    body = ProtocolTermsOut(
        protocol=_protocol_out(register, p),
        versions=sorted(versions),
        purposes=list(p.purposes),
        legal_gateways=[g.text for g in p.legal_gateways],
        retention=str(p.retention),
        terms=[clause_terms(p, c) for c in p.clauses],
    )
    return Answer(body, [p.label], len(body.terms))


def protocol_diff(
    register: ProtocolRegister, caller: Caller, protocol_id: str, first: int, second: int
) -> Answer[ProtocolDiffOut]:
    """What changed from version `first` to version `second` of a protocol, change by change."""
    versions = _versions(register, caller, protocol_id)
    a = _version(versions, protocol_id, first, "from")
    b = _version(versions, protocol_id, second, "to")
    changes = [
        ChangeOut(
            kind=c.kind,
            what=c.what,
            within=c.within,
            clause=c.clause,
            before=c.before,
            after=c.after,
            detail=c.detail,
            words=str(c),
        )
        for c in protocol_changes(a, b)
    ]
    body = ProtocolDiffOut(id=protocol_id, from_version=first, to_version=second, changes=changes)
    return Answer(body, [a.label, b.label], len(changes))


def flows(
    session: Session,
    register: ProtocolRegister,
    caller: Caller,
    first: date,
    last: date,
    partner: str | None = None,
    recipient: str | None = None,
) -> Answer[list[FlowOut]]:
    """Events released into the warehouse, by protocol x clause x partner x recipient x month (of one `partner`
    or to one `recipient`, when given).

    A data owner sees the flows of its own events; a recipient sees what was released to it, under the
    clause's disclosure rule when the clause is aggregates-only; the hub operator sees everything.
    """
    visible = {p.label: p for p in _visible(register, caller)}
    out = []
    for flow in released_flows(session, first, last):
        label, _, clause_id = flow.ref.partition("#")
        protocol = visible.get(label)
        clause = next((c for c in protocol.clauses if c.id == clause_id), None) if protocol else None
        if clause is None or partner not in (None, flow.partner):
            continue
        for to in clause.recipients:
            if recipient not in (None, to):
                continue
            if caller.oversees_everything or caller.org == flow.partner:
                shown: int | None = flow.events
            elif caller.org == to:
                shown = protect_value(flow.events, rule_for([(flow.ref, clause_disclosure(clause))]))
            else:
                continue
            out.append(
                FlowOut(
                    protocol=label,
                    clause=clause_id,
                    partner=flow.partner,
                    recipient=to,
                    period=flow.period,
                    events=shown,
                )
            )
    table = Table(
        rows=out,
        columns=list(FlowOut.model_fields),
        name="flows",
        rule="exact, or the clause's rule where a recipient sees an aggregates-only clause (suppressed: empty)",
    )
    return Answer(out, sorted(visible), len(out), table)


def withheld(
    session: Session, caller: Caller, first: date, last: date, partner: str | None = None
) -> Answer[list[WithheldOut]]:
    """Events withheld by the protocols, by reason, dataset, publishing partner and month: the caller's
    organisation's own (another's is refused), or any `partner`'s (all by default) for the hub operator."""
    if not caller.oversees_everything:
        if partner not in (None, caller.org):
            raise Forbidden("an IG lead sees the withheld events of its own organisation")
        partner = caller.org
    out = [
        WithheldOut(code=w.code, dataset=w.dataset, partner=w.partner, period=w.period, events=w.events)
        for w in withheld_events(session, first, last, partner)
    ]
    table = Table(rows=out, columns=list(WithheldOut.model_fields), name="withheld", rule="exact")
    return Answer(out, rows=len(out), table=table)


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


def _access_record(row: AccessOut) -> dict[str, object]:
    """An access record as a CSV record: its query as JSON, its protocols joined by spaces."""
    record = row.model_dump()
    record["query"] = json.dumps(row.query, sort_keys=True)
    record["protocols"] = " ".join(row.protocols)
    return record


def access_log(
    session: Session, caller: Caller, where: AccessFilter, first: date, last: date, page: Page
) -> Answer[list[AccessOut]]:
    """API queries on days first..last (UTC) matching `where`, newest first, a page at a time: the caller's
    organisation's (another organisation's is refused), or anyone's for the hub operator."""
    if not caller.oversees_everything:
        if where.org not in (None, caller.org):
            raise Forbidden("an IG lead sees the access log of its own organisation")
        where = AccessFilter(**{**where.__dict__, "org": caller.org})
    since = datetime.combine(first, time(), UTC)
    until = datetime.combine(last, time(), UTC) + timedelta(days=1)
    where = AccessFilter(**{**where.__dict__, "since": since, "until": until})
    records = access_records(session, where, page.limit, page.offset)
    out = [AccessOut.model_validate(r, from_attributes=True) for r in records]
    table = Table(
        rows=out, columns=list(AccessOut.model_fields), name="access-log", rule="not applicable", flatten=_access_record
    )
    return Answer(out, rows=len(out), table=table)


def retention_runs(
    session: Session, register: ProtocolRegister, caller: Caller, first: date, last: date, page: Page
) -> Answer[list[RetentionRunOut]]:
    """What retention runs of days first..last removed, newest first: of the datasets of the protocols the
    caller's organisation is party to (every dataset for the hub operator)."""
    visible = _visible(register, caller)
    datasets = None if caller.oversees_everything else sorted({d for p in visible for d in p.datasets})
    out = [
        RetentionRunOut.model_validate(r, from_attributes=True)
        for r in runs_of(session, datasets, first, last, page.limit, page.offset)
    ]
    table = Table(rows=out, columns=list(RetentionRunOut.model_fields), name="retention-runs", rule="not applicable")
    return Answer(out, rows=len(out), table=table)


def retractions(session: Session, caller: Caller, first: date, last: date) -> Answer[list[RetractionOut]]:
    """Records withdrawn on days first..last, by day, dataset and partner: the caller's organisation's own, or
    every partner's for the hub operator."""
    partner = None if caller.oversees_everything else caller.org
    out = [RetractionOut.model_validate(r, from_attributes=True) for r in retractions_of(session, partner, first, last)]
    table = Table(rows=out, columns=list(RetractionOut.model_fields), name="retractions", rule="not applicable")
    return Answer(out, rows=len(out), table=table)


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
