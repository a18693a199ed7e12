"""The loader's per-event path as it was before issue 16 (decode, decide, geocode and shape one event at a time).

Kept only as the reference the benchmark (`benchmarks/loader_stages.py`) and the equivalence tests compare the
product's batch path against; nothing in the product imports it.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, fields
from datetime import date, datetime
from operator import attrgetter
from typing import cast

from pydantic import ValidationError

from geography.geocoder import Geocoder, GeocodeResult
from sharing_protocols.catalogue import CATALOGUE
from sharing_protocols.decision import Decision, EventFacts, ProtocolRegister, Released, Withheld, decide_for_warehouse
from sharing_protocols.envelope import EventEnvelope, PostcodeLocation
from sharing_protocols.precision import SpatialPrecision, derivable
from sharing_protocols.topics import TopicSource, topic_source
from stream_processors.batch import BatchResult, MalformedMessage, RawMessage
from warehouse.schema.models import LOCATED, LOCATION_NOT_RELEASED
from warehouse.sink import (
    DeadLetterRow,
    DecisionRow,
    EventClaim,
    EventKey,
    EventRow,
    RetractionRow,
    WarehouseSink,
    new_record_key,
)


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


def _month_bounds(day: date) -> tuple[date, date]:
    return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _fingerprint(envelope: EventEnvelope) -> str:
    """A digest of the event's content without its identity: equal for two records that say the same thing."""
    content = envelope.model_dump(mode="json", exclude={"event_id"})
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _fields_present(envelope: EventEnvelope) -> tuple[str, ...]:
    """The fields the partner filled in: location when given, then each attribute that is not empty."""
    present = ["location"] if envelope.location is not None else []
    present += [name for name, value in envelope.attributes.items() if value not in (None, "")]
    return tuple(present)


def _audit(decision: Decision, envelope: EventEnvelope, content_hash: str, place: GeocodeResult) -> DecisionRow:
    """The decision's audit record: its grounds (clauses, precision, fields dropped) or reason, never the contents."""
    released = decision if isinstance(decision, Released) else None
    withheld = decision if isinstance(decision, Withheld) else None
    return DecisionRow(
        event_id=envelope.event_id,
        content_hash=content_hash,
        dataset=envelope.dataset,
        partner=envelope.partner,
        period_month=envelope.occurred.start.replace(day=1),
        outcome="released" if released else "withheld",
        code=withheld.code if withheld else None,
        reason=withheld.reason if withheld else None,
        protocols=tuple(str(ref) for ref in released.justifications) if released else (),
        fields_dropped=released.fields_dropped if released else (),
        spatial_precision=tuple(place.precision for place in released.places) if released else (),
        temporal_precision=released.temporal_precision if released else None,
        fields_present=_fields_present(envelope),
        fingerprint=_fingerprint(envelope),
        period_end=envelope.occurred.end,
        geocoded=bool(place.areas.get("ward") or place.areas.get("lad")),
    )


_ENGINE_LEVEL = {"ward": "ward", "lsoa": "lsoa", "lad": "district"}  # geocoder level -> protocol precision
_ABOVE_DISTRICT = ("csp", "county", "pfa")  # each holds whole districts: released wherever a district is


def _released_codes(view: Released, areas: Mapping[str, str]) -> dict[str, str]:
    """Area codes (geocoder levels) the view releases, or that a released finer place determines (point -> ward)."""
    levels = [place.precision for place in view.places]
    released = {place.precision: place.code for place in view.places if place.code is not None}

    def allowed(precision: str) -> bool:
        return any(derivable(p, cast(SpatialPrecision, precision)) for p in levels)

    codes: dict[str, str] = {}
    for level, precision in _ENGINE_LEVEL.items():
        code = released.get(cast(SpatialPrecision, precision)) or (areas.get(level) if allowed(precision) else None)
        if code:
            codes[level] = code
    if allowed("district"):
        codes.update({level: areas[level] for level in _ABOVE_DISTRICT if level in areas})
    return codes


def _event_row(
    message: RawMessage,
    envelope: EventEnvelope,
    view: Released,
    place: GeocodeResult,
    areas: Mapping[str, str],
    content_hash: str,
    seq: int,
) -> EventRow:
    """The warehouse row of a released view: only its fields, its places and its period precision."""
    codes = _released_codes(view, areas)
    point = next((p for p in view.places if p.x is not None), None)
    ward = codes.get("ward")
    if ward:
        status = LOCATED
    elif place.unmatched:
        status = place.unmatched
    else:
        status = LOCATION_NOT_RELEASED
    start, end = envelope.occurred.start, envelope.occurred.end
    finer_than_month = view.temporal_precision in ("day", "timestamp")
    if not finer_than_month:  # no clause releases the day: keep the month only
        start, end = _month_bounds(start)[0], _month_bounds(end)[1]
    return EventRow(
        event_id=envelope.event_id,
        dataset=envelope.dataset,
        partner=envelope.partner,
        schema_version=envelope.schema_version,
        period_start=start,
        period_end=end,
        period_precision=envelope.occurred.precision if finer_than_month else "month",
        period_month=start.replace(day=1),
        category=view.category,
        attributes_json=json.dumps(dict(view.attributes), sort_keys=True),
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
        geocode_method=place.method if point or codes else None,
        geocode_quality=place.quality if point or codes else None,
        spatial_precision=view.spatial_precision,
        temporal_precision=view.temporal_precision,
        period_label=view.period,
        protocols=tuple(str(ref) for ref in view.justifications),
        retain_until=view.retain_until,
        weight=spec.weight(view.attributes) if (spec := CATALOGUE.get(envelope.dataset)) else 1,
        field_retain_until_json=json.dumps({part: day.isoformat() for part, day in view.field_retention.items()}),
        record_key=new_record_key(),
        batch_seq=seq,
    )


def _dead_letter(message: RawMessage, source: TopicSource | None, reason: str) -> DeadLetterRow:
    dataset, partner = (source.dataset, source.partner) if source else (None, None)
    return DeadLetterRow(
        message.topic, message.partition, message.offset, _key_text(message.key), dataset, partner, reason
    )


def stages(
    messages: Sequence[RawMessage],
    geocoder: Geocoder,
    topic_prefix: str,
    register: ProtocolRegister,
    at: datetime,
    seconds: dict[str, float],
    memo: object = None,
) -> BatchResult:
    """The old `process`, its per-event steps grouped into stages whose CPU seconds are added to `seconds`."""
    clock = time.process_time
    started = clock()
    decoded: list[tuple[RawMessage, EventEnvelope]] = []
    dead: list[DeadLetterRow] = []
    tombstones: list[tuple[int, RawMessage, EventKey]] = []
    last_seen: dict[EventKey, int] = {}  # event -> position of its last message in the batch
    for position, message in enumerate(messages):
        source = topic_source(topic_prefix, message.topic)
        if source is None:
            dead.append(_dead_letter(message, None, f"not a partner topic of this hub: {message.topic!r}"))
            continue
        retracted = retraction_of(message)
        if retracted is not None:
            key = EventKey(retracted, source.dataset, source.partner)
            tombstones.append((position, message, key))
            last_seen[key] = position
            continue
        try:
            envelope = decode(message, source)
        except MalformedMessage as exc:
            dead.append(_dead_letter(message, source, str(exc)))
            continue
        decoded.append((message, envelope))
        last_seen[EventKey(envelope.event_id, envelope.dataset, envelope.partner)] = position
    seconds["decode"] = seconds.get("decode", 0.0) + clock() - started
    started = clock()
    places = geocoder.geocode([e.location for _, e in decoded])
    all_areas: list[dict[str, str]] = []
    for (_, envelope), place in zip(decoded, places, strict=True):
        areas = dict(place.areas)
        source_lsoa = envelope.attributes.get("lsoa_code")
        if geocoder.lsoas is None and isinstance(source_lsoa, str) and source_lsoa:
            areas["lsoa"] = source_lsoa  # no LSOA boundaries loaded: the partner's own LSOA code stands in
        all_areas.append(areas)
    seconds["geocode"] = seconds.get("geocode", 0.0) + clock() - started
    started = clock()
    made: list[Decision] = []
    for (_, envelope), place, areas in zip(decoded, places, all_areas, strict=True):
        postcode = envelope.location.postcode if isinstance(envelope.location, PostcodeLocation) else None
        facts = EventFacts.from_envelope(
            envelope,
            place.x,
            place.y,
            {_ENGINE_LEVEL[k]: v for k, v in areas.items() if k in _ENGINE_LEVEL},
            postcode,
            regions={level: areas[level] for level in _ABOVE_DISTRICT if level in areas},
        )
        made.append(decide_for_warehouse(facts, register, at))
    seconds["decide"] = seconds.get("decide", 0.0) + clock() - started
    started = clock()
    rows: list[EventRow] = []
    decisions: list[DecisionRow] = []
    claims: list[EventClaim] = []
    for (message, envelope), place, areas, decision in zip(decoded, places, all_areas, made, strict=True):
        content_hash = hashlib.sha256(message.value or b"").hexdigest()
        decisions.append(_audit(decision, envelope, content_hash, place))
        claims.append(
            EventClaim(
                envelope.event_id, envelope.dataset, envelope.partner, message.topic, message.partition, message.offset
            )
        )
        if isinstance(decision, Released):
            rows.append(_event_row(message, envelope, decision, place, areas, content_hash, len(decisions)))
    result = _finish(rows, dead, decisions, claims, tombstones, last_seen)
    seconds["shape"] = seconds.get("shape", 0.0) + clock() - started
    return result


def _finish(
    rows: list[EventRow],
    dead: list[DeadLetterRow],
    decisions: list[DecisionRow],
    claims: list[EventClaim],
    tombstones: list[tuple[int, RawMessage, EventKey]],
    last_seen: dict[EventKey, int],
) -> BatchResult:
    # The last message of an event in the batch decides it: a later withheld version or a retraction withdraws it.
    final: dict[EventKey, str] = {EventKey(d.event_id, d.dataset, d.partner): d.outcome for d in decisions}
    retractions = [
        RetractionRow(
            event_id=key.event_id,
            dataset=key.dataset,
            partner=key.partner,
            source_topic=message.topic,
            source_partition=message.partition,
            source_offset=message.offset,
            final=last_seen[key] == position,
        )
        for position, message, key in tombstones
    ]
    final.update({r.key: "retracted" for r in retractions if r.final})
    withdrawn = [key for key, outcome in final.items() if outcome in ("withheld", "retracted")]
    rows = [row for row in rows if final[EventKey(row.event_id, row.dataset, row.partner)] == "released"]
    return BatchResult(rows, dead, decisions, withdrawn, retractions, claims)


def process(
    messages: Sequence[RawMessage],
    geocoder: Geocoder,
    topic_prefix: str,
    register: ProtocolRegister,
    at: datetime,
) -> BatchResult:
    """The old `process`: decode, geocode and apply the protocols to a batch, one event at a time."""
    return stages(messages, geocoder, topic_prefix, register, at, {})


def write(sink: WarehouseSink, result: BatchResult) -> list[DeadLetterRow]:
    """The old `WarehouseSink.write` of a batch: row by row COPY values, every batch by the stored-version path,
    decisions as multi-row INSERTs of bound parameters."""
    from warehouse import sink as product

    conn = sink._connection()
    try:
        with conn.cursor() as cur:
            sink._writers_lock(cur)
            claims, retractions = result.claims, result.retractions
            stored = product._owners(cur, {c.event_id for c in claims} | {r.event_id for r in retractions})
            refused = product.refusals(claims, retractions, stored)
            events = [e for e in result.events if EventKey(e.event_id, e.dataset, e.partner) not in refused.refused]
            decisions = [
                d for d in result.decisions if EventKey(d.event_id, d.dataset, d.partner) not in refused.refused
            ]
            withdrawn = [key for key in result.withdrawn if key not in refused.refused]
            retractions = [r for r in retractions if r.key not in refused.refused]
            letters = [*result.dead_letters, *refused.dead_letters]
            found = False
            if events:
                with cur.copy(f"COPY stage_event ({', '.join(product._STAGED)}) FROM STDIN") as copy:
                    for row in events:
                        copy.write_row([list(v) if isinstance(v, tuple) else v for v in _EVENT_VALUES(row)])
                found = sink._upsert(cur, new=False)
            if retractions:
                cur.executemany(product._RETRACTION, [asdict(r) for r in retractions])
            if withdrawn:
                sink._withdraw(cur, withdrawn, claims, retractions, probe=bool(stored) and not found)
            for start in range(0, len(decisions), 1000):
                chunk = decisions[start : start + 1000]
                columns = list(DecisionRow._fields)
                values = ", ".join([f"({', '.join(['%s'] * len(columns))})"] * len(chunk))
                sql = (
                    f"INSERT INTO decision ({', '.join(columns)}) VALUES {values} "
                    "ON CONFLICT (event_id, content_hash, outcome, protocols, replay_id) DO NOTHING"
                )
                cur.execute(sql, [list(v) if isinstance(v, tuple) else v for d in chunk for v in _DECISION_VALUES(d)])
            if letters:
                cur.executemany(product._DEAD_LETTER, [list(_LETTER_VALUES(d)) for d in letters])
        conn.commit()
    except BaseException:
        sink.close()
        raise
    return refused.dead_letters


_EVENT_VALUES = attrgetter(*EventRow._fields)
_DECISION_VALUES = attrgetter(*DecisionRow._fields)
_LETTER_VALUES = attrgetter(*(f.name for f in fields(DeadLetterRow)))
