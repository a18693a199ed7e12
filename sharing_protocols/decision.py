"""The decision engine: what of one event a recipient (or the shared warehouse) may have, and under which clause.

Default deny. Only protocols in force on the day release anything: status active, on or after valid_from, on or
before expires and review_due; of several versions of one protocol in force, only the highest applies. A clause
matches an event when the event's partner is a data owner of the protocol that provides the event's dataset under
it, that dataset is one of the clause's datasets, its category passes the clause's category filter, its place
lies inside the clause's geographic scope (for `decide`, the recipient's; for the warehouse, some recipient's) and
(for `decide`) the recipient is one of the clause's recipients. Pure and deterministic: no clock, no I/O.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Literal

from sharing_protocols.clause_rule import clause_disclosure
from sharing_protocols.disclosure import DisclosureControl
from sharing_protocols.envelope import AttributeValue, EventEnvelope
from sharing_protocols.precision import (
    AREA_LEVELS,
    SPATIAL_PRECISIONS,
    TEMPORAL_PRECISIONS,
    Place,
    SpatialPrecision,
    TemporalPrecision,
    coarsen_period,
    coarsen_place,
    derivable,
    spatial_rank,
    temporal_rank,
)
from sharing_protocols.protocol import (
    Clause,
    Output,
    Protocol,
    ProtocolError,
    ScopeLevel,
    consistency_problems,
)

WithheldCode = Literal["no_grant", "not_data_owner", "not_in_force", "category_not_covered", "outside_scope"]
REGION_LEVELS = ("csp", "county", "pfa")  # the levels above the district an event's place is known at


@dataclass(frozen=True, slots=True)
class EventFacts:
    """What the engine knows of one event: the envelope plus what geocoding adds.

    `x`/`y` are EPSG:27700 metres (both or neither); `areas` maps "lsoa", "ward", "district" to area codes;
    `postcode` is the full postcode where the feed carries one; `occurred_at` a time of day where known;
    `regions` maps "csp", "county", "pfa" to the codes of the areas holding the event's district (for scopes).
    """

    event_id: uuid.UUID
    dataset: str
    partner: str
    category: str
    period_start: date
    period_end: date
    period_precision: Literal["day", "month"]
    x: float | None = None
    y: float | None = None
    areas: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    postcode: str | None = None
    occurred_at: datetime | None = None
    attributes: Mapping[str, AttributeValue] = field(default_factory=lambda: MappingProxyType({}))
    regions: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if (self.x is None) != (self.y is None):
            raise ValueError("give both x and y, or neither")
        unknown = sorted(set(self.areas) - set(AREA_LEVELS))
        if unknown:
            raise ValueError(f"unknown area level(s) {unknown}; levels are {list(AREA_LEVELS)}")
        unknown = sorted(set(self.regions) - set(REGION_LEVELS))
        if unknown:
            raise ValueError(f"unknown region level(s) {unknown}; levels are {list(REGION_LEVELS)}")
        object.__setattr__(self, "regions", MappingProxyType({k: v for k, v in self.regions.items() if v}))
        if self.occurred_at is not None and not self.period_start <= self.occurred_at.date() <= self.period_end:
            raise ValueError("occurred_at is outside the occurrence period")
        object.__setattr__(self, "areas", MappingProxyType({k: v for k, v in self.areas.items() if v}))
        object.__setattr__(self, "attributes", MappingProxyType(dict(self.attributes)))

    @classmethod
    def from_envelope(
        cls,
        envelope: EventEnvelope,
        x: float | None,
        y: float | None,
        areas: Mapping[str, str | None],
        postcode: str | None = None,
        *,
        occurred_at: datetime | None = None,
        regions: Mapping[str, str | None] | None = None,
    ) -> EventFacts:
        """The facts of a geocoded envelope. NaN coordinates count as no point; None area codes are left out."""
        point = (float(x), float(y)) if x is not None and y is not None else None
        if point is not None and (math.isnan(point[0]) or math.isnan(point[1])):
            point = None
        return cls(
            event_id=envelope.event_id,
            dataset=envelope.dataset,
            partner=envelope.partner,
            category=envelope.category,
            period_start=envelope.occurred.start,
            period_end=envelope.occurred.end,
            period_precision=envelope.occurred.precision,
            x=point[0] if point else None,
            y=point[1] if point else None,
            areas={level: code for level, code in areas.items() if code},
            postcode=postcode or None,
            occurred_at=occurred_at,
            attributes=envelope.attributes,
            regions={level: code for level, code in (regions or {}).items() if code},
        )

    def code_at(self, level: ScopeLevel) -> str | None:
        """The code of the area at `level` (district, csp, county, pfa) holding the event, if known."""
        return self.areas.get(level) if level == "district" else self.regions.get(level)

    @property
    def has_location(self) -> bool:
        return self.x is not None or bool(self.areas) or bool(self.postcode)

    @property
    def field_names(self) -> tuple[str, ...]:
        """The fields this event carries: the standard ones it has, then its attributes."""
        standard = ("category", "period") + (("location",) if self.has_location else ())
        return standard + tuple(self.attributes)


@dataclass(frozen=True, slots=True, order=True)
class ClauseRef:
    """A clause of a protocol version, as decisions cite it: `protocol` is `id@version`."""

    protocol: str
    clause: str

    def __str__(self) -> str:
        return f"{self.protocol}#{self.clause}"


@dataclass(frozen=True, slots=True)
class Grant:
    """A clause together with the protocol version it belongs to."""

    protocol: Protocol
    clause: Clause

    @property
    def ref(self) -> ClauseRef:
        return ClauseRef(self.protocol.label, self.clause.id)

    @property
    def disclosure(self) -> DisclosureControl | None:
        """The clause's disclosure rule, its own or the default for its data (`clause_disclosure`)."""
        return clause_disclosure(self.clause)

    def in_scope(self, event: EventFacts, recipient: str | None) -> bool:
        """Whether the event lies inside the clause's geographic scope for `recipient` (None: for any of the
        clause's recipients). Always true for a clause without a scope; an event with no place at the scope's
        level is outside it."""
        if self.clause.scope is None:
            return True
        for whom in self.clause.recipients if recipient is None else (recipient,):
            scope = self.protocol.scope_areas(self.clause, whom)
            if scope is None:
                return True
            level, codes = scope
            if event.code_at(level) in codes:
                return True
        return False


@dataclass(frozen=True, slots=True)
class Released:
    """What may be released: only the allowed fields, coarsened, with the clause(s) that allow it.

    `places` holds the location: one place for a recipient; for the warehouse, every place any matching clause
    allows, finest first. `chosen` is the clause applied (None for the warehouse, which takes the union of all
    `justifications`). `fields` lists the released field names; `fields_dropped` the event's other fields.
    `linkage_allowed` says whether the event id and pseudonym fields may be used to link records.
    `field_retention` says until when each part of the view may be kept (see `field_retention`); `retain_until`
    is the latest of those dates, when the whole view goes.
    """

    event_id: uuid.UUID
    dataset: str
    recipient: str | None
    fields: tuple[str, ...]
    category: str | None
    period: str | None
    temporal_precision: TemporalPrecision | None
    places: tuple[Place, ...]
    attributes: Mapping[str, AttributeValue]
    output: Output
    disclosure: DisclosureControl | None
    linkage_allowed: bool
    retain_until: date
    chosen: ClauseRef | None
    justifications: tuple[ClauseRef, ...]
    fields_dropped: tuple[str, ...]
    notes: tuple[str, ...] = ()
    field_retention: Mapping[str, date] = field(default_factory=lambda: MappingProxyType({}))
    released: Literal[True] = True

    @property
    def location(self) -> Place | None:
        """The finest place released, if any."""
        return self.places[0] if self.places else None

    @property
    def spatial_precision(self) -> SpatialPrecision | None:
        return self.places[0].precision if self.places else None

    def audit_record(self) -> dict[str, object]:
        """A JSON-ready audit entry: the decision and its grounds, never the event's contents."""
        return {
            "event_id": str(self.event_id),
            "dataset": self.dataset,
            "recipient": self.recipient,
            "outcome": "released",
            "protocol": self.chosen.protocol if self.chosen else None,
            "clause": self.chosen.clause if self.chosen else None,
            "justifications": [str(ref) for ref in self.justifications],
            "fields": list(self.fields),
            "fields_dropped": list(self.fields_dropped),
            "spatial_precision": [place.precision for place in self.places],
            "temporal_precision": self.temporal_precision,
            "output": self.output,
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class Withheld:
    """Nothing may be released; `code` classifies why and `reason` says it in words."""

    event_id: uuid.UUID
    dataset: str
    recipient: str | None
    code: WithheldCode
    reason: str
    released: Literal[False] = False

    def audit_record(self) -> dict[str, object]:
        """A JSON-ready audit entry: the decision and its reason, never the event's contents."""
        return {
            "event_id": str(self.event_id),
            "dataset": self.dataset,
            "recipient": self.recipient,
            "outcome": "withheld",
            "code": self.code,
            "reason": self.reason,
        }


Decision = Released | Withheld


def _as_day(at: date) -> date:
    return at.date() if isinstance(at, datetime) else at


class ProtocolRegister:
    """The protocols the hub obeys, every version; immutable once built.

    Refuses two documents with the same `id@version` and any protocol that breaks the consistency rules.
    """

    def __init__(self, protocols: Iterable[Protocol]) -> None:
        by_label: dict[str, Protocol] = {}
        problems = []
        for protocol in protocols:
            if protocol.label in by_label:
                raise ValueError(f"protocol {protocol.label} is given twice")
            by_label[protocol.label] = protocol
            problems.extend(consistency_problems(protocol, protocol.label))
        if problems:
            raise ProtocolError(problems)
        self._protocols = tuple(sorted(by_label.values(), key=lambda p: (p.id, p.version)))
        # Caches of pure functions of the (immutable) protocols, for the worker's per-event calls.
        self._in_force_cache: dict[date, tuple[Protocol, ...]] = {}
        self._reason_cache: dict[tuple[str, date], str | None] = {}
        self._grants_cache: dict[tuple[str, str], tuple[tuple[Grant, ...], tuple[Grant, ...]]] = {}

    def __iter__(self) -> Iterator[Protocol]:
        return iter(self._protocols)

    def __len__(self) -> int:
        return len(self._protocols)

    @property
    def protocols(self) -> tuple[Protocol, ...]:
        """Every protocol version, by id then version."""
        return self._protocols

    def provided_datasets(self) -> dict[str, frozenset[str]]:
        """Each data owner's id, mapped to the datasets it provides under any protocol version of the register."""
        provided: dict[str, set[str]] = {}
        for protocol in self._protocols:
            for owner in protocol.data_owners:
                provided.setdefault(owner.id, set()).update(owner.datasets)
        return {owner: frozenset(datasets) for owner, datasets in provided.items()}

    def get(self, protocol_id: str, version: int | None = None) -> Protocol:
        """One protocol version (the highest when `version` is None); KeyError when absent."""
        versions = [p for p in self._protocols if p.id == protocol_id and version in (None, p.version)]
        if not versions:
            raise KeyError(f"no protocol {protocol_id}" + (f"@{version}" if version is not None else ""))
        return versions[-1]

    def not_in_force_reason(self, protocol: Protocol, at: date) -> str | None:
        """Why `protocol` releases nothing on `at` (including being superseded), or None if it is in force."""
        day = _as_day(at)
        key = (protocol.label, day)
        if key not in self._reason_cache:
            reason = protocol.not_in_force_reason(day)
            if reason is None:
                newer = [p for p in self.active_at(day) if p.id == protocol.id and p.version > protocol.version]
                reason = f"superseded by {newer[0].label}" if newer else None
            self._reason_cache[key] = reason
        return self._reason_cache[key]

    def active_at(self, at: date) -> tuple[Protocol, ...]:
        """The protocols in force on `at`: for each id, the highest version that is active on that day."""
        day = _as_day(at)
        if day not in self._in_force_cache:
            latest: dict[str, Protocol] = {}
            for protocol in self._protocols:
                if protocol.not_in_force_reason(day) is None:
                    latest[protocol.id] = protocol  # sorted by version, so the highest wins
            self._in_force_cache[day] = tuple(p for p in self._protocols if latest.get(p.id) is p)
        return self._in_force_cache[day]

    def clauses_for(self, recipient: str, at: date, dataset: str | None = None) -> tuple[Grant, ...]:
        """The clauses in force on `at` that grant `recipient` something (of `dataset`, when given)."""
        return tuple(
            Grant(protocol, clause)
            for protocol in self.active_at(at)
            for clause in protocol.clauses
            if recipient in clause.recipients and (dataset is None or dataset in clause.datasets)
        )

    def due_for_review(self, today: date, within_days: int) -> tuple[Protocol, ...]:
        """Active or suspended protocols (highest version of each id) whose review_due is on or before
        `today + within_days`, overdue ones included; soonest first."""
        latest: dict[str, Protocol] = {}
        for protocol in self._protocols:
            if protocol.status != "draft":
                latest[protocol.id] = protocol
        horizon = today + timedelta(days=within_days)
        due = [p for p in latest.values() if p.status in ("active", "suspended") and p.review_due <= horizon]
        return tuple(sorted(due, key=lambda p: (p.review_due, p.id)))

    def needing_attention(self, today: date, within_days: int) -> tuple[Protocol, ...]:
        """Active or suspended protocols (highest version of each id) due for review or expiring on or before
        `today + within_days`, overdue ones included; the sooner of the two dates first."""
        horizon = today + timedelta(days=within_days)
        due = {p.label: p for p in self.due_for_review(today, within_days)}
        latest: dict[str, Protocol] = {}
        for protocol in self._protocols:
            if protocol.status != "draft":
                latest[protocol.id] = protocol
        for p in latest.values():
            if p.status in ("active", "suspended") and p.expires is not None and p.expires <= horizon:
                due[p.label] = p

        def sooner(p: Protocol) -> tuple[date, str]:
            return (min(p.review_due, p.expires or p.review_due), p.id)

        return tuple(sorted(due.values(), key=sooner))

    def finest_temporal_precision(self, dataset: str, partner: str, at: date) -> TemporalPrecision | None:
        """The finest time precision any clause in force grants for `partner`'s `dataset` (None: no clause)."""
        precisions = [
            clause.temporal_precision
            for protocol in self.active_at(at)
            if protocol.provides(partner, dataset)
            for clause in protocol.clauses
            if dataset in clause.datasets
        ]
        granted = [precision for precision in precisions if precision is not None]
        finest: TemporalPrecision | None = None
        for precision in granted:
            if finest is None or temporal_rank(precision) < temporal_rank(finest):
                finest = precision
        return finest

    def grants_covering(self, event: EventFacts) -> tuple[Grant, ...]:
        """Every clause, in force or not, covering the event's dataset in a protocol under which the event's
        partner is the data owner providing that dataset."""
        return self._coverage(event)[0]

    def grants_owned_by_others(self, event: EventFacts) -> tuple[Grant, ...]:
        """Every clause, in force or not, covering the event's dataset in a protocol that names the event's partner
        as a data owner of other datasets only: what the partner would get if it owned the dataset."""
        return self._coverage(event)[1]

    def _coverage(self, event: EventFacts) -> tuple[tuple[Grant, ...], tuple[Grant, ...]]:
        return self.coverage(event.partner, event.dataset)

    def coverage(self, partner: str, dataset: str) -> tuple[tuple[Grant, ...], tuple[Grant, ...]]:
        """`grants_covering` and `grants_owned_by_others` of an event of `partner`'s `dataset` (they depend on
        nothing else of the event)."""
        key = (partner, dataset)
        if key not in self._grants_cache:
            owned: list[Grant] = []
            others: list[Grant] = []
            for protocol in self._protocols:
                if partner not in protocol.owner_ids:
                    continue
                grants = owned if protocol.provides(partner, dataset) else others
                grants.extend(Grant(protocol, c) for c in protocol.clauses if dataset in c.datasets)
            self._grants_cache[key] = (tuple(owned), tuple(others))
        return self._grants_cache[key]


@dataclass(frozen=True, slots=True)
class _View:
    """One clause applied to one event."""

    grant: Grant
    place: Place | None
    period: str | None
    temporal: TemporalPrecision | None
    notes: tuple[str, ...]

    def preference(self) -> tuple[int, int, int, str, str]:
        """Sort key: finest place, then finest time, then record level, then protocol id, then clause id."""
        clause = self.grant.clause
        return (
            spatial_rank(self.place.precision) if self.place else len(SPATIAL_PRECISIONS),
            temporal_rank(self.temporal) if self.temporal else len(TEMPORAL_PRECISIONS),
            0 if clause.output == "record_level" else 1,
            self.grant.protocol.id,
            clause.id,
        )


def _apply(event: EventFacts, grant: Grant) -> _View:
    clause = grant.clause
    notes: list[str] = []
    place = None
    if "location" in clause.fields and clause.spatial_precision is not None:
        place = coarsen_place(clause.spatial_precision, event.x, event.y, event.areas, event.postcode)
        if place is None and event.has_location:
            notes.append(f"location dropped: the event has no {clause.spatial_precision} to release")
    period = temporal = None
    if "period" in clause.fields and clause.temporal_precision is not None:
        period, temporal = coarsen_period(
            clause.temporal_precision,
            event.period_start,
            event.period_end,
            "timestamp" if event.occurred_at is not None else event.period_precision,
            event.occurred_at,
        )
    return _View(grant, place, period, temporal, tuple(notes))


def field_retention(views: Iterable[tuple[ClauseRef, date, Released]]) -> dict[str, date]:
    """Until when each part of a view may be kept: per key, the latest date of the clauses that release it.

    `views` holds, per clause, its reference, the last day its protocol keeps what it released, and what that
    clause alone releases. Keys: `category` and each attribute name; `location:<precision>` for every spatial
    precision the clause's place holds (its own and each coarser level it determines, e.g. ward -> district);
    `period:<precision>` for the clause's time precision and every coarser one; `clause:<ref>` for the clause.
    """
    kept: dict[str, date] = {}

    def hold(key: str, until: date) -> None:
        kept[key] = max(until, kept.get(key, until))

    for ref, until, view in views:
        hold(f"clause:{ref}", until)
        if view.category is not None:
            hold("category", until)
        for name in view.attributes:
            hold(name, until)
        for place in view.places:
            for level in SPATIAL_PRECISIONS:
                if derivable(place.precision, level):
                    hold(f"location:{level}", until)
        if view.period is not None and view.temporal_precision is not None:
            for precision in TEMPORAL_PRECISIONS[temporal_rank(view.temporal_precision) :]:
                hold(f"period:{precision}", until)
    return dict(sorted(kept.items()))


def _withheld_or_matching(
    event: EventFacts,
    grants: tuple[Grant, ...],
    others: tuple[Grant, ...],
    register: ProtocolRegister,
    day: date,
    recipient: str | None,
) -> Withheld | list[Grant]:
    """The grants in force that cover the event's category, or why there are none.

    `grants` are the clauses for the recipient under which the partner owns the dataset; `others` those of
    protocols naming the partner as a data owner of other datasets only, which make the code `not_data_owner`.
    """
    to_whom = recipient if recipient is not None else "the warehouse"

    def withheld(code: WithheldCode, reason: str) -> Withheld:
        return Withheld(event.event_id, event.dataset, recipient, code, reason)

    if not grants and others:
        labels = ", ".join(sorted({g.protocol.label for g in others}))
        return withheld(
            "not_data_owner",
            f"partner {event.partner} is not a data owner of dataset {event.dataset} under {labels}",
        )
    if not grants:
        return withheld(
            "no_grant", f"no protocol grants {to_whom} dataset {event.dataset} from partner {event.partner}"
        )
    in_force = [g for g in grants if register.not_in_force_reason(g.protocol, day) is None]
    if not in_force:
        reasons = sorted({f"{g.protocol.label}: {register.not_in_force_reason(g.protocol, day)}" for g in grants})
        return withheld("not_in_force", "no protocol granting this is in force: " + "; ".join(reasons))
    matching = [g for g in in_force if g.clause.covers_category(event.category)]
    if not matching:
        refs = ", ".join(sorted(str(g.ref) for g in in_force))
        return withheld("category_not_covered", f"the event's category is outside the category filters of {refs}")
    scoped = [g for g in matching if g.in_scope(event, recipient)]
    if not scoped:
        refs = ", ".join(sorted(str(g.ref) for g in matching))
        return withheld(
            "outside_scope",
            f"the event's place is outside the geographic scope of {refs} for "
            + (recipient if recipient is not None else "every recipient of them"),
        )
    return scoped


def decide(event: EventFacts, recipient: str, register: ProtocolRegister, at: date) -> Decision:
    """What `recipient` may have of `event` on `at` (a date, or a datetime whose date is used)."""
    day = _as_day(at)
    grants = tuple(g for g in register.grants_covering(event) if recipient in g.clause.recipients)
    others = tuple(g for g in register.grants_owned_by_others(event) if recipient in g.clause.recipients)
    outcome = _withheld_or_matching(event, grants, others, register, day, recipient)
    if isinstance(outcome, Withheld):
        return outcome
    views = sorted((_apply(event, grant) for grant in outcome), key=_View.preference)
    best = _one_clause(event, views[0], recipient, day)
    return replace(
        best,
        justifications=tuple(view.grant.ref for view in views),
        field_retention=MappingProxyType(field_retention([(views[0].grant.ref, best.retain_until, best)])),
    )


def _one_clause(event: EventFacts, view: _View, recipient: str | None, day: date) -> Released:
    """What one clause alone releases of the event."""
    clause = view.grant.clause
    return _released(
        event,
        recipient,
        fields=set(clause.fields),
        places=(view.place,) if view.place else (),
        period=view.period,
        temporal=view.temporal,
        output=clause.output,
        disclosure=view.grant.disclosure,
        linkage=clause.pseudonym_linkage,
        retain_until=view.grant.protocol.retention.keep_until(day),
        chosen=view.grant.ref,
        justifications=(view.grant.ref,),
        notes=view.notes,
    )


def decide_for_warehouse(event: EventFacts, register: ProtocolRegister, at: date) -> Decision:
    """What of `event` may enter the shared warehouse on `at`: the union of every clause in force that covers it.

    The fields are the union of those clauses' fields; the places are every place those clauses allow (finest
    first); the period is at the finest precision any of them allows. Each part is kept only as long as the
    longest retention among the clauses that release it (`field_retention`), the whole view as long as the
    longest of all. Withheld when no clause in force covers the event.
    """
    day = _as_day(at)
    outcome = _withheld_or_matching(
        event, register.grants_covering(event), register.grants_owned_by_others(event), register, day, None
    )
    if isinstance(outcome, Withheld):
        return outcome
    views = [_apply(event, grant) for grant in outcome]
    places = sorted(
        {view.place for view in views if view.place}, key=lambda p: (spatial_rank(p.precision), p.code or "")
    )
    timed = sorted((v for v in views if v.temporal), key=lambda v: temporal_rank(v.temporal or "month"))
    notes = sorted({note for view in views for note in view.notes}) if not places else []
    singles = [_one_clause(event, view, None, day) for view in views]
    kept = field_retention((view.grant.ref, one.retain_until, one) for view, one in zip(views, singles, strict=True))
    merged = _released(
        event,
        None,
        fields={name for view in views for name in view.grant.clause.fields},
        places=tuple(places),
        period=timed[0].period if timed else None,
        temporal=timed[0].temporal if timed else None,
        output="record_level" if any(v.grant.clause.output == "record_level" for v in views) else "aggregates_only",
        disclosure=None,
        linkage=any(v.grant.clause.pseudonym_linkage for v in views),
        retain_until=max(single.retain_until for single in singles),
        chosen=None,
        justifications=tuple(sorted({v.grant.ref for v in views})),
        notes=tuple(notes),
    )
    return replace(merged, field_retention=MappingProxyType(kept))


def _released(
    event: EventFacts,
    recipient: str | None,
    *,
    fields: set[str],
    places: tuple[Place, ...],
    period: str | None,
    temporal: TemporalPrecision | None,
    output: Output,
    disclosure: DisclosureControl | None,
    linkage: bool,
    retain_until: date,
    chosen: ClauseRef | None,
    justifications: tuple[ClauseRef, ...],
    notes: tuple[str, ...],
) -> Released:
    attributes = {name: value for name, value in event.attributes.items() if name in fields}
    released = (
        (("category",) if "category" in fields else ())
        + (("period",) if period is not None else ())
        + (("location",) if places else ())
        + tuple(sorted(attributes))
    )
    return Released(
        event_id=event.event_id,
        dataset=event.dataset,
        recipient=recipient,
        fields=released,
        category=event.category if "category" in fields else None,
        period=period,
        temporal_precision=temporal,
        places=places,
        attributes=MappingProxyType(attributes),
        output=output,
        disclosure=disclosure,
        linkage_allowed=linkage,
        retain_until=retain_until,
        chosen=chosen,
        justifications=justifications,
        fields_dropped=tuple(sorted(set(event.field_names) - set(released))),
        notes=notes,
    )
