"""Turns a batch of consumed messages into warehouse rows and dead letters (no I/O)."""

from __future__ import annotations

import calendar
import gc
import hashlib
import json
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from json.encoder import encode_basestring_ascii
from typing import NamedTuple, cast

import orjson
from pydantic import ValidationError

from geography.geocoder import Geocoder, GeocodeResult, Location
from sharing_protocols.catalogue import CATALOGUE
from sharing_protocols.decision import Decision, ProtocolRegister, Released, Withheld
from sharing_protocols.envelope import AttributeValue, BngPoint, EventEnvelope, PostcodeLocation, Wgs84Point
from sharing_protocols.id_scheme import InvalidIdScheme, check_id, scheme_of
from sharing_protocols.precision import SpatialPrecision, derivable
from sharing_protocols.topics import TopicSource, topic_source
from stream_processors.decision_memo import WarehouseDecisions, WarehouseEvent
from warehouse.schema.models import LOCATED, LOCATION_NOT_RELEASED
from warehouse.sink import (
    CopyText,
    DeadLetterRow,
    DecisionRow,
    EventClaim,
    EventKey,
    EventRow,
    RetractionRow,
    copy_text,
    new_record_keys,
)


@dataclass(frozen=True)
class RawMessage:
    """A consumed Kafka record, as far as the loader needs it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes | None]] = ()


@dataclass(frozen=True)
class BatchResult:
    """What a batch becomes: rows to upsert, decisions to audit and messages to dead-letter.

    Events are told apart by event id, dataset and partner (EventKey): a message from one partner never replaces
    or withdraws another's event here; `claims` let the sink refuse a claim on an id that another already owns.
    """

    events: list[EventRow]
    dead_letters: list[DeadLetterRow]
    decisions: list[DecisionRow]
    withdrawn: list[EventKey] = field(default_factory=list)  # now withheld or retracted: remove any earlier version
    retractions: list[RetractionRow] = field(default_factory=list)
    claims: list[EventClaim] = field(default_factory=list)  # one per decoded message, in batch order
    text: CopyText | None = None  # `events` and `decisions` as the sink copies them, made with them

    @property
    def withheld(self) -> int:
        return sum(1 for d in self.decisions if d.outcome == "withheld")


class MalformedMessage(ValueError):
    """A message that cannot become an event; the message says why, without quoting the payload."""


def _describe(exc: ValidationError) -> str:
    """Which envelope field failed and pydantic's error type: fixed words only, never a value from the payload."""
    first = exc.errors(include_input=False, include_url=False)[0]
    top = str(first["loc"][0]) if first["loc"] else ""
    where = top if top in EventEnvelope.model_fields else "payload"
    return f"invalid envelope: {where}: {first['type']} ({exc.error_count()} error(s))"


def _key_text(key: bytes | None) -> str | None:
    """The message key as text when it is a UUID (an event id); anything else is not kept."""
    try:
        return str(uuid.UUID(key.decode("ascii"))) if key else None
    except (ValueError, UnicodeDecodeError):
        return None


def retraction_of(message: RawMessage) -> uuid.UUID | None:
    """The event id when `message` is a tombstone (null value) keyed by an event id."""
    if message.value is not None:
        return None
    key = _key_text(message.key)
    return uuid.UUID(key) if key is not None else None


def decode(message: RawMessage, source: TopicSource) -> EventEnvelope:
    """The envelope in `message`, checked against the catalogue and the partner topic it arrived on."""
    if not message.value:
        raise MalformedMessage("empty payload" if message.value is not None else "null payload without an event id key")
    if b"\x00" in message.value or b"\\u0000" in message.value:
        raise MalformedMessage("payload contains a NUL character, which the warehouse cannot store")
    try:
        envelope = EventEnvelope.from_bytes(message.value)
    except ValidationError as exc:
        if exc.errors()[0]["type"] == "json_invalid":
            raise MalformedMessage("payload is not valid UTF-8 JSON") from None
        raise MalformedMessage(_describe(exc)) from None
    spec = CATALOGUE.get(envelope.dataset)
    if spec is None:
        raise MalformedMessage(f"unknown dataset {envelope.dataset!r}")
    if envelope.schema_version != spec.schema_version:
        raise MalformedMessage(f"unsupported schema version {envelope.schema_version} for dataset {envelope.dataset!r}")
    if envelope.dataset != source.dataset:
        raise MalformedMessage(f"dataset {envelope.dataset!r} published on topic {message.topic!r}")
    if envelope.partner != source.partner:
        raise MalformedMessage(
            f"partner_mismatch: the envelope names partner {envelope.partner!r} on a topic of partner "
            f"{source.partner!r}"
        )
    if message.key != str(envelope.event_id).encode():
        raise MalformedMessage("message key is not the event id")
    return envelope


_MONTH_ENDS: dict[tuple[int, int], date] = {}


def _month_end(day: date) -> date:
    """The last day of `day`'s month, kept per month (at most 12 x 9,999 of them; `calendar.monthrange` cost
    several microseconds per event)."""
    end = _MONTH_ENDS.get((day.year, day.month))
    if end is None:
        end = _MONTH_ENDS[day.year, day.month] = day.replace(day=calendar.monthrange(day.year, day.month)[1])
    return end


_quoted = encode_basestring_ascii  # json.dumps of a str (the escaper it calls, in C)
_sorted_json = json.JSONEncoder(sort_keys=True).encode  # json.dumps(..., sort_keys=True), its encoder made once


def _location_text(location: Location | None) -> str:
    """`json.dumps(location.model_dump(mode="json"), sort_keys=True)`, written out (finite floats by repr, as json)."""
    if location is None:
        return "null"
    if isinstance(location, Wgs84Point):
        return f'{{"kind": "wgs84", "lat": {float(location.lat)!r}, "lon": {float(location.lon)!r}}}'
    if isinstance(location, BngPoint):
        return f'{{"easting": {float(location.easting)!r}, "kind": "bng", "northing": {float(location.northing)!r}}}'
    if isinstance(location, PostcodeLocation):
        return f'{{"kind": "postcode", "postcode": {_quoted(location.postcode)}}}'
    vintage = "null" if location.vintage is None else _quoted(location.vintage)
    code, level = _quoted(location.code), _quoted(location.level)
    return f'{{"code": {code}, "kind": "area", "level": {level}, "vintage": {vintage}}}'


def fingerprint(envelope: EventEnvelope) -> str:
    """A digest of the event's content without its identity: equal for two records that say the same thing.

    The SHA-256 of the envelope's JSON dump (`model_dump(mode="json")` without `event_id`, `json.dumps` with keys
    sorted), written out field by field in that order and spacing: strings by the standard library's own C
    escaper, the location by `_location_text`, the attributes by json's sorted encoder.
    `tests/unit/stream_processors/test_batch_paths.py` checks it equals pydantic's dump's digest.
    """
    occurred = envelope.occurred
    location = envelope.location
    text = (
        f'{{"attributes": {_sorted_json(envelope.attributes)}, '
        f'"category": {_quoted(envelope.category)}, "dataset": {_quoted(envelope.dataset)}, '
        f'"envelope_version": {int(envelope.envelope_version)}, '
        f'"location": {_location_text(location)}, '
        f'"occurred": {{"end": "{occurred.end.isoformat()}", "precision": {_quoted(occurred.precision)}, '
        f'"start": "{occurred.start.isoformat()}"}}, '
        f'"partner": {_quoted(envelope.partner)}, "schema_version": {int(envelope.schema_version)}}}'
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _fields_present(envelope: EventEnvelope) -> tuple[str, ...]:
    """The fields the partner filled in: location when given, then each attribute that is not empty."""
    present = ["location"] if envelope.location is not None else []
    present += [name for name, value in envelope.attributes.items() if value not in (None, "")]
    return tuple(present)


_ENGINE_LEVEL = {"ward": "ward", "lsoa": "lsoa", "lad": "district"}  # geocoder level -> protocol precision
_ABOVE_DISTRICT = ("csp", "county", "pfa")  # each holds whole districts: released wherever a district is


class _Shape:
    """What every released view of one decision template shares, worked out once per template and batch."""

    __slots__ = ("allowed", "codes", "finer_than_month", "protocols", "retention_json", "spatial", "spatial_levels")

    def __init__(self, view: Released) -> None:
        self.spatial_levels = tuple(place.precision for place in view.places)
        self.codes: dict[str, int] = {
            place.precision: i for i, place in enumerate(view.places) if place.code is not None
        }
        levels = self.spatial_levels
        self.allowed = {
            precision: any(derivable(p, cast(SpatialPrecision, precision)) for p in levels)
            for precision in (*_ENGINE_LEVEL.values(), "district")
        }
        self.protocols = tuple(str(ref) for ref in view.justifications)
        self.retention_json = json.dumps({part: day.isoformat() for part, day in view.field_retention.items()})
        self.finer_than_month = view.temporal_precision in ("day", "timestamp")
        self.spatial = view.spatial_precision


def _json_object(values: Mapping[str, AttributeValue]) -> str:
    """Attribute values as a JSON object for a jsonb column (keys sorted; one C call)."""
    try:
        return orjson.dumps(dict(values), option=orjson.OPT_SORT_KEYS).decode()
    except (orjson.JSONEncodeError, TypeError):  # an integer beyond 64 bits: the standard library takes any
        return json.dumps(dict(values), sort_keys=True)


def _released_codes(view: Released, shape: _Shape, areas: Mapping[str, str]) -> dict[str, str]:
    """Area codes (geocoder levels) the view releases, or that a released finer place determines (point -> ward)."""
    places = view.places
    allowed = shape.allowed
    codes: dict[str, str] = {}
    for level, precision in _ENGINE_LEVEL.items():
        at = shape.codes.get(precision)
        code = places[at].code if at is not None else (areas.get(level) if allowed[precision] else None)
        if code:
            codes[level] = code
    if allowed["district"]:
        for level in _ABOVE_DISTRICT:
            if level in areas:
                codes[level] = areas[level]
    return codes


def _event_row(
    message: RawMessage,
    envelope: EventEnvelope,
    view: Released,
    shape: _Shape,
    place: GeocodeResult,
    areas: Mapping[str, str],
    content_hash: str,
    seq: int,
    keys: list[int],
) -> EventRow:
    """The warehouse row of a released view: only its fields, its places and its period precision."""
    codes = _released_codes(view, shape, areas)
    point = next((p for p in view.places if p.x is not None), None)
    ward = codes.get("ward")
    if ward:
        status = LOCATED
    elif place.unmatched:
        status = place.unmatched
    else:
        status = LOCATION_NOT_RELEASED
    occurred = envelope.occurred
    start, end = occurred.start, occurred.end
    if not shape.finer_than_month:  # no clause releases the day: keep the month only
        start, end = start.replace(day=1), _month_end(end)
    located = point is not None or bool(codes)
    return EventRow(
        event_id=envelope.event_id,
        dataset=envelope.dataset,
        partner=envelope.partner,
        schema_version=envelope.schema_version,
        period_start=start,
        period_end=end,
        period_precision=occurred.precision if shape.finer_than_month else "month",
        period_month=start.replace(day=1),
        category=view.category,
        attributes_json=_json_object(view.attributes),
        x=point.x if point else None,
        y=point.y if point else None,
        location_status=status,
        ward_code=ward,
        ward_vintage=place.vintage if ward else None,
        content_hash=content_hash,
        source_topic=message.topic,
        source_partition=message.partition,
        source_offset=message.offset,
        lsoa_code=codes.get("lsoa"),
        district_code=codes.get("lad"),
        csp_code=codes.get("csp"),
        county_code=codes.get("county"),
        pfa_code=codes.get("pfa"),
        geocode_method=place.method if located else None,
        geocode_quality=place.quality if located else None,
        spatial_precision=shape.spatial,
        temporal_precision=view.temporal_precision,
        period_label=view.period,
        protocols=shape.protocols,
        retain_until=view.retain_until,
        weight=spec.weight(view.attributes) if (spec := CATALOGUE.get(envelope.dataset)) else 1,
        field_retain_until_json=shape.retention_json,
        record_key=keys[seq - 1],
        batch_seq=seq,
    )


def _dead_letter(message: RawMessage, source: TopicSource | None, reason: str) -> DeadLetterRow:
    dataset, partner = (source.dataset, source.partner) if source else (None, None)
    return DeadLetterRow(
        message.topic, message.partition, message.offset, _key_text(message.key), dataset, partner, reason
    )


def refused_message(message: RawMessage, topic_prefix: str, reason: str) -> DeadLetterRow:
    """The dead letter of a message the warehouse refused (put down to its topic's dataset and partner)."""
    return _dead_letter(message, topic_source(topic_prefix, message.topic), reason)


@dataclass
class Decoded:
    """A batch after decoding: its envelopes (with their messages), dead letters and tombstones."""

    events: list[tuple[RawMessage, EventEnvelope]] = field(default_factory=list)
    dead: list[DeadLetterRow] = field(default_factory=list)
    tombstones: list[tuple[int, RawMessage, EventKey]] = field(default_factory=list)
    # The id scheme a message's header names (`sharing_protocols.id_scheme`), where it names one: by the index of
    # its event in `events`, or by the position of its tombstone in the batch.
    event_schemes: dict[int, str] = field(default_factory=dict)
    tombstone_schemes: dict[int, str] = field(default_factory=dict)
    last_seen: dict[EventKey, int] = field(default_factory=dict)  # event -> position of its last message


def _scheme_problem(scheme: str, event_id: uuid.UUID) -> str | None:
    """Why an event id cannot have been made under the `scheme` its message names (a dead letter's reason), if so."""
    try:
        check_id(scheme, event_id)
    except InvalidIdScheme as exc:
        return f"id_scheme_invalid: {exc}"
    return None


def decode_batch(messages: Sequence[RawMessage], topic_prefix: str) -> Decoded:
    """Each message routed by its topic (`topic_source`) and decoded, or a tombstone, or a dead letter.

    A message whose `hub-id-scheme` header is not a scheme, appears twice, or names a scheme that cannot have made
    its event id (the UUID version) is a dead letter (`id_scheme_invalid`); a message without the header is not
    checked (a producer from before id schemes).
    """
    out = Decoded()
    sources: dict[str, TopicSource | None] = {}
    for position, message in enumerate(messages):
        topic = message.topic
        if topic in sources:
            source = sources[topic]
        else:
            source = sources[topic] = topic_source(topic_prefix, topic)
        if source is None:
            out.dead.append(_dead_letter(message, None, f"not a partner topic of this hub: {topic!r}"))
            continue
        try:
            scheme = scheme_of(message.headers) if message.headers else None
        except InvalidIdScheme as exc:
            out.dead.append(_dead_letter(message, source, f"id_scheme_invalid: {exc}"))
            continue
        if message.value is None:
            retracted = retraction_of(message)
            if retracted is not None:
                if scheme is not None and (problem := _scheme_problem(scheme, retracted)):
                    out.dead.append(_dead_letter(message, source, problem))
                    continue
                key = EventKey(retracted, source.dataset, source.partner)
                out.tombstones.append((position, message, key))
                out.last_seen[key] = position
                if scheme is not None:
                    out.tombstone_schemes[position] = scheme
                continue
        try:
            envelope = decode(message, source)
        except MalformedMessage as exc:
            out.dead.append(_dead_letter(message, source, str(exc)))
            continue
        if scheme is not None:
            if problem := _scheme_problem(scheme, envelope.event_id):
                out.dead.append(_dead_letter(message, source, problem))
                continue
            out.event_schemes[len(out.events)] = scheme
        out.events.append((message, envelope))
        out.last_seen[EventKey(envelope.event_id, envelope.dataset, envelope.partner)] = position
    return out


class Where(NamedTuple):
    """An event's areas by geocoder level, and as the decision engine names them (shared by events alike)."""

    areas: Mapping[str, str]  # "ward", "lsoa", "lad", "csp", "county", "pfa"
    engine_areas: Mapping[str, str]  # "ward", "lsoa", "district"
    regions: Mapping[str, str]  # "csp", "county", "pfa"


def _where(areas: Mapping[str, str]) -> Where:
    return Where(
        areas,
        {_ENGINE_LEVEL[k]: v for k, v in areas.items() if k in _ENGINE_LEVEL},
        {level: areas[level] for level in _ABOVE_DISTRICT if level in areas},
    )


def geocode_batch(geocoder: Geocoder, decoded: Decoded) -> tuple[list[GeocodeResult], list[Where]]:
    """Each event's geocoding, in one bulk call, and its areas (the partner's own LSOA code standing in for
    LSOA boundaries when none are loaded)."""
    places = geocoder.geocode([e.location for _, e in decoded.events])
    stand_in = geocoder.lsoas is None
    seen: dict[tuple[int, object], tuple[Mapping[str, str], Where]] = {}
    wheres: list[Where] = []
    for (_, envelope), place in zip(decoded.events, places, strict=True):
        lsoa = envelope.attributes.get("lsoa_code") if stand_in else None
        if not (isinstance(lsoa, str) and lsoa):
            lsoa = None
        key = (id(place.areas), lsoa)
        entry = seen.get(key)
        if entry is None or entry[0] is not place.areas:
            areas = {**place.areas, "lsoa": lsoa} if lsoa else place.areas
            entry = seen[key] = (place.areas, _where(areas))
        wheres.append(entry[1])
    return places, wheres


def memo_for(register: ProtocolRegister, at: datetime, previous: WarehouseDecisions | None) -> WarehouseDecisions:
    """The decision memo for `register` on the day of `at`: `previous` while it is still that, else a new one."""
    day = at.date()
    if previous is not None and previous.register is register and previous.on == day:
        return previous
    return WarehouseDecisions(register, day)


def decide_batch(
    memo: WarehouseDecisions, decoded: Decoded, places: Sequence[GeocodeResult], wheres: Sequence[Where]
) -> list[Decision]:
    """The warehouse decision of each event (`decide_for_warehouse`, once per distinct combination of its inputs)."""
    decisions: list[Decision] = []
    decide = memo.decide
    for (_, envelope), place, where in zip(decoded.events, places, wheres, strict=True):
        location = envelope.location
        occurred = envelope.occurred
        decisions.append(
            decide(
                WarehouseEvent(
                    envelope.event_id,
                    envelope.dataset,
                    envelope.partner,
                    envelope.category,
                    occurred.start,
                    occurred.end,
                    occurred.precision,
                    envelope.attributes,
                    place.x,
                    place.y,
                    where.engine_areas,
                    location.postcode if isinstance(location, PostcodeLocation) else None,
                    where.regions,
                )
            )
        )
    return decisions


def shape_batch(
    decoded: Decoded,
    places: Sequence[GeocodeResult],
    wheres: Sequence[Where],
    decisions: Sequence[Decision],
) -> BatchResult:
    """The batch's rows, audit records, claims and retractions, and its rows' and records' COPY text; the last message
    of an event in the batch wins."""
    rows: list[EventRow] = []
    audits: list[DecisionRow] = []
    claims: list[EventClaim] = []
    shapes: dict[int, tuple[object, _Shape]] = {}  # per decision template (its shared field_retention mapping)
    keys = new_record_keys(len(decisions))
    schemes = decoded.event_schemes
    for index, ((message, envelope), place, where, decision) in enumerate(
        zip(decoded.events, places, wheres, decisions, strict=True)
    ):
        content_hash = hashlib.sha256(message.value or b"").hexdigest()
        event_id, dataset, partner = envelope.event_id, envelope.dataset, envelope.partner
        released = decision if isinstance(decision, Released) else None
        withheld = decision if isinstance(decision, Withheld) else None
        shape = None
        if released is not None:
            entry = shapes.get(id(released.field_retention))
            if entry is None or entry[0] is not released.field_retention:
                entry = shapes[id(released.field_retention)] = (released.field_retention, _Shape(released))
            shape = entry[1]
        audits.append(
            DecisionRow(
                event_id=event_id,
                content_hash=content_hash,
                dataset=dataset,
                partner=partner,
                period_month=envelope.occurred.start.replace(day=1),
                outcome="released" if released else "withheld",
                code=withheld.code if withheld else None,
                reason=withheld.reason if withheld else None,
                protocols=shape.protocols if shape else (),
                fields_dropped=released.fields_dropped if released else (),
                spatial_precision=shape.spatial_levels if shape else (),
                temporal_precision=released.temporal_precision if released else None,
                fields_present=_fields_present(envelope),
                fingerprint=fingerprint(envelope),
                period_end=envelope.occurred.end,
                geocoded=bool(place.areas.get("ward") or place.areas.get("lad")),
            )
        )
        claims.append(
            EventClaim(
                event_id, dataset, partner, message.topic, message.partition, message.offset, scheme=schemes.get(index)
            )
        )
        if released is not None and shape is not None:
            row = _event_row(message, envelope, released, shape, place, where.areas, content_hash, len(audits), keys)
            rows.append(row)
    # The last message of an event in the batch decides it: a later withheld version or a retraction withdraws it.
    final: dict[EventKey, str] = {EventKey(d.event_id, d.dataset, d.partner): d.outcome for d in audits}
    last_seen = decoded.last_seen
    retractions = [
        RetractionRow(
            event_id=key.event_id,
            dataset=key.dataset,
            partner=key.partner,
            source_topic=message.topic,
            source_partition=message.partition,
            source_offset=message.offset,
            final=last_seen[key] == position,
            scheme=decoded.tombstone_schemes.get(position),
        )
        for position, message, key in decoded.tombstones
    ]
    final.update({r.key: "retracted" for r in retractions if r.final})
    withdrawn = [key for key, outcome in final.items() if outcome in ("withheld", "retracted")]
    rows = [row for row in rows if final[EventKey(row.event_id, row.dataset, row.partner)] == "released"]
    return BatchResult(rows, decoded.dead, audits, withdrawn, retractions, claims, copy_text(rows, audits))


class _CollectionPause:
    """The cyclic garbage collector off while a batch is worked on, as it was before afterwards.

    A batch allocates hundreds of thousands of objects, none in reference cycles (reference counting frees its
    garbage), and each allocation threshold crossed made the collector walk them and the geocoder's heap again:
    about a third of the batch's CPU time (docs/benchmarks.md "Loader stages"). The collector is the process's, and
    two threads may process batches at once (a retry beside the next batch): it goes off at the first entry and back
    to how it was then when the last one leaves.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inside = 0
        self._was_enabled = False

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._inside == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._inside += 1
        try:
            yield
        finally:
            with self._lock:
                self._inside -= 1
                if self._inside == 0 and self._was_enabled:
                    gc.enable()


collection_paused = _CollectionPause()  # `with collection_paused():`


def freeze_start_up_heap() -> None:
    """Move what exists now (modules, the geocoder's areas, the register) out of the cyclic collector's sight.

    Called once the loader has what it keeps for its life: the collections that still run (after each batch,
    `collection_paused`) then walk only what came later. Frozen objects are still freed when no longer referenced;
    only reference cycles among them are never collected (garbage is collected first, so none are frozen).
    """
    gc.collect()
    gc.freeze()


def process(
    messages: Sequence[RawMessage],
    geocoder: Geocoder,
    topic_prefix: str,
    register: ProtocolRegister,
    at: datetime,
    memo: WarehouseDecisions | None = None,
) -> BatchResult:
    """Decode, geocode and apply the protocols to a batch, stage by stage over the whole batch.

    The dataset and the partner come from the topic (`topic_source`): a message on any other topic, or whose
    envelope names another dataset or partner, is dead-lettered. Every message becomes exactly one of: an event
    row (with its decision), a withheld decision, a retraction, or a dead letter (the sink may still turn a claim
    on another partner's event id into a dead letter). A tombstone only ever withdraws its own partner's event.
    `memo` (from `memo_for`) carries decisions over from earlier batches of the same register and day.
    The cyclic garbage collector is paused meanwhile (`collection_paused`).
    """
    with collection_paused():
        return _stages(messages, geocoder, topic_prefix, register, at, memo)


def _stages(
    messages: Sequence[RawMessage],
    geocoder: Geocoder,
    topic_prefix: str,
    register: ProtocolRegister,
    at: datetime,
    memo: WarehouseDecisions | None,
) -> BatchResult:
    """`process`'s stages, in a frame of their own: the envelopes, places and decisions are freed when it returns,
    before the collector is back on, so the collection it owes walks the result only (left alive, they made it walk
    several hundred thousand objects a batch: about 10 us an event in the worker)."""
    decoded = decode_batch(messages, topic_prefix)
    places, wheres = geocode_batch(geocoder, decoded)
    decisions = decide_batch(memo_for(register, at, memo), decoded, places, wheres)
    return shape_batch(decoded, places, wheres, decisions)
