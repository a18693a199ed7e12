"""The idempotent bulk sink: COPY a batch into staging, then upsert on the event id in one transaction.

An event id belongs to the (dataset, partner) whose message first carried it (its first decision, else the first
claim in the batch): a message from anyone else carrying that id is dead-lettered (`event_id_conflict`), and a
tombstone from anyone else (`retraction_not_publisher`), so no partner can overwrite or withdraw another's event.
The upsert, the deletes and the retraction's removal are guarded by dataset and partner as well, and by position:
a message never replaces or removes a stored version from a later offset of the same topic partition (`hub replay`
re-reads the topics while the worker may be loading newer versions).

A batch none of whose events has an earlier decision (the worker's usual batch) has none stored or retired, so its
latest versions go in with one insert, without the stored-version probes (`_NEW`); any other batch keeps the
record keys of its stored events, drops versions that moved month, and upserts (`_UPSERT_STEPS`).

The stored versions a batch touches are found by the event table's whole key, (event id, month), one partition each:
an event's month is its decision's, so the months of the batch's ids' decisions name every partition that can hold
them (`_FIND_STORED`). Probed by the id alone, each read or delete took every monthly partition, or a hash of the
whole table, so a replay over a loaded warehouse slowed as the warehouse grew (docs/benchmarks.md, Replay).

Each batch takes the writers' lock first (warehouse/writers.py): shared for the worker, whose workers own distinct
event ids, exclusive for `hub replay`, so that a replay never reads an event's stored versions while the worker is
between its read and write of the same event, or the other way round.

Each (dataset, partner) keeps the id scheme of its first message that names one (`feed_id_scheme`): a message or
tombstone naming another is dead-lettered (`id_scheme_conflict`), so that one record published under two schemes
(two different event ids) is never loaded twice.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from functools import lru_cache
from operator import attrgetter
from typing import Any, NamedTuple, cast

import numpy as np
import psycopg
from psycopg._copy_base import format_row_text  # psycopg's own COPY text formatter (its C one where installed)
from psycopg.adapt import AdaptersMap, PyFormat, Transformer
from psycopg.types.array import ListDumper

from sharing_protocols.perturbation import RECORD_KEY_MODULUS
from warehouse.schema.db import connect_raw
from warehouse.writers import writers_lock


def new_record_key() -> int:
    """A fresh record key: uniform in 0..RECORD_KEY_MODULUS-1, from the operating system's secure random source."""
    return secrets.randbelow(RECORD_KEY_MODULUS)


def new_record_keys(count: int) -> list[int]:
    """`count` fresh record keys as `new_record_key` draws them, from one read of the secure random source."""
    if RECORD_KEY_MODULUS != 1 << 16:  # two random bytes are one uniform key only for this modulus
        return [new_record_key() for _ in range(count)]
    return cast(list[int], np.frombuffer(secrets.token_bytes(2 * count), dtype=np.uint16).tolist())


class EventRow(NamedTuple):
    """One event as the warehouse stores it; x/y are EPSG:27700 metres or None.

    A named tuple, in the staging table's column order, so that it goes to COPY as it is (a frozen dataclass took
    about 4 us per row to build). The cell key method's `record_key` is drawn for every row made (`new_record_keys`);
    the sink keeps an event's stored key instead.
    """

    event_id: uuid.UUID
    dataset: str
    partner: str
    schema_version: int
    period_start: date
    period_end: date
    period_precision: str
    period_month: date
    category: str | None
    attributes_json: str
    x: float | None
    y: float | None
    location_status: str
    ward_code: str | None
    ward_vintage: str | None
    content_hash: str
    source_topic: str
    source_partition: int
    source_offset: int
    record_key: int
    lsoa_code: str | None = None
    district_code: str | None = None
    spatial_precision: str | None = None
    temporal_precision: str | None = None
    period_label: str | None = None
    protocols: tuple[str, ...] = ()
    retain_until: date | None = None
    csp_code: str | None = None
    county_code: str | None = None
    pfa_code: str | None = None
    geocode_method: str | None = None
    geocode_quality: int | None = None
    weight: int = 1  # what the event counts for in aggregates (an aggregate record's own count)
    field_retain_until_json: str = "{}"  # per released part, the last day a clause holds it (JSON, ISO dates)
    batch_seq: int = 0  # position in the batch: of two versions of an event, the later one wins


class DecisionRow(NamedTuple):
    """The audit record of one protocol decision (never the event's contents); a named tuple in column order."""

    event_id: uuid.UUID
    content_hash: str
    dataset: str
    partner: str
    period_month: date
    outcome: str
    code: str | None
    reason: str | None
    protocols: tuple[str, ...]
    fields_dropped: tuple[str, ...]
    spatial_precision: tuple[str, ...]
    temporal_precision: str | None
    fields_present: tuple[str, ...] = ()
    fingerprint: str | None = None
    period_end: date | None = None
    geocoded: bool | None = None


class EventKey(NamedTuple):
    """An event id with the dataset and partner of the topic it came on: what may replace or withdraw an event."""

    event_id: uuid.UUID
    dataset: str
    partner: str


@dataclass(frozen=True)
class EventClaim:
    """A decoded message's claim on its event id (dataset and partner from its topic), and where it was consumed."""

    event_id: uuid.UUID
    dataset: str
    partner: str
    source_topic: str
    source_partition: int
    source_offset: int
    scheme: str | None = field(default=None, kw_only=True)  # its id scheme (`sharing_protocols.id_scheme`), if named

    @property
    def key(self) -> EventKey:
        return EventKey(self.event_id, self.dataset, self.partner)


@dataclass(frozen=True)
class RetractionRow(EventClaim):
    """A tombstone consumed from a partner topic (its claim to retract the event); `final` when no later message of
    the batch from the same partner restates the event."""

    final: bool


@dataclass(frozen=True)
class DeadLetterRow:
    """A message that could not be loaded, and why."""

    source_topic: str
    source_partition: int
    source_offset: int
    event_key: str | None
    dataset: str | None
    partner: str | None
    reason: str


_FIELDS: dict[type, tuple[str, ...]] = {
    EventRow: EventRow._fields,
    DecisionRow: DecisionRow._fields,
    DeadLetterRow: tuple(f.name for f in fields(DeadLetterRow)),
}


def _columns(row_type: type) -> tuple[str, ...]:
    """A row type's fields, named as the table's columns (`X_json` is loaded into the jsonb column `X`)."""
    return tuple(name.removesuffix("_json") for name in _FIELDS[row_type])


_LETTER_VALUES = attrgetter(*_FIELDS[DeadLetterRow])


def _sql_values(row: DeadLetterRow) -> list[object]:
    """A dead letter's values in field order."""
    return list(_LETTER_VALUES(row))


# Staging holds EventRow as it is (x/y, batch_seq); the event table holds a point instead and no batch_seq.
_STAGED = _columns(EventRow)
_DECISION_COLUMNS = _columns(DecisionRow)
# What the stored-version path reads of a stored version (`stage_stored`); `frozen`: retention removed some of its
# fields, so that no message may write it again.
_STORED_KEPT = (
    "event_id", "period_month", "dataset", "partner", "record_key", "source_topic", "source_partition", "source_offset",
)  # fmt: skip
_STAGE = f"""
CREATE TEMP TABLE IF NOT EXISTS stage_event (LIKE event) ON COMMIT DELETE ROWS;
ALTER TABLE stage_event DROP COLUMN geom, DROP COLUMN loaded_at, DROP COLUMN fields_retired,
    ADD COLUMN x float8, ADD COLUMN y float8, ADD COLUMN batch_seq int;
CREATE TEMP TABLE IF NOT EXISTS stage_decision ON COMMIT DELETE ROWS AS
    SELECT {", ".join(_DECISION_COLUMNS)}, 0 AS seq FROM decision WITH NO DATA;
CREATE TEMP TABLE IF NOT EXISTS stage_decided ON COMMIT DELETE ROWS AS SELECT event_id FROM decision WITH NO DATA;
CREATE TEMP TABLE IF NOT EXISTS stage_stored ON COMMIT DELETE ROWS AS
    SELECT {", ".join(_STORED_KEPT)}, true AS frozen FROM event WITH NO DATA;
"""
_STORED = tuple("geom" if c == "x" else c for c in _STAGED if c not in ("y", "batch_seq"))
_SELECTED = tuple(
    "CASE WHEN x IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint(x, y), 27700) END" if c == "x" else c
    for c in _STAGED
    if c not in ("y", "batch_seq")
)
# Re-loading never extends retention, of the event or of any of its fields, and never changes its record key.
_KEPT = {
    "record_key": "event.record_key",
    "retain_until": "LEAST(event.retain_until, EXCLUDED.retain_until)",
    "field_retain_until": (
        "hub_earliest_retention(event.field_retain_until, EXCLUDED.field_retain_until, event.retain_until)"
    ),
}
_UPDATED = tuple(f"{c} = {_KEPT.get(c, f'EXCLUDED.{c}')}" for c in _STORED if c != "event_id")
# What makes a re-delivered event worth rewriting: new content, new justifying clauses, or new geography.
_CHANGED = (
    "content_hash",
    "protocols",
    "ward_code",
    "ward_vintage",
    "lsoa_code",
    "district_code",
    "csp_code",
    "county_code",
    "pfa_code",
)


def _stored_later(stored: str, message: str) -> str:
    """SQL: the stored version `stored` came from a later offset of the same topic partition than `message`, which
    must then not replace or remove it (a replay re-reading an older version while the worker loads a newer one)."""
    return (
        f"{stored}.source_topic = {message}.source_topic AND {stored}.source_partition = {message}.source_partition "
        f"AND {stored}.source_offset > {message}.source_offset"
    )


# Each stored version of the batch's events (`stage_stored`), probed by its whole key. An event's month is its
# decision's, and decisions are never deleted, so the months of its decisions, read now (a version another worker
# committed since the owners were read is found too, if its id had a decision then), name every partition that can
# hold it. Each subquery is kept
# from being flattened (DISTINCT, LIMIT), so each runs once per id or pair, through `decision_once` and then the one
# partition of that month: a join the planner could hash would read the whole table.
_FIND_STORED = f"""INSERT INTO stage_stored
SELECT e.* FROM (SELECT DISTINCT event_id FROM stage_decided) i
CROSS JOIN LATERAL (SELECT DISTINCT period_month FROM decision d WHERE d.event_id = i.event_id) m
CROSS JOIN LATERAL (
    SELECT {", ".join(_STORED_KEPT)}, fields_retired <> '{{}}' FROM event
    WHERE event_id = i.event_id AND period_month = m.period_month LIMIT 1
) e"""
_STORED_MONTHS = "SELECT event_id, period_month FROM stage_stored WHERE event_id = ANY(%s)"
# The latest staged version of each event, never a retired one, nor a frozen one (rewriting it would bring back the
# fields retention removed), nor one whose id is stored for another dataset or partner, nor one older than the stored
# version.
_LATEST = f"""SELECT DISTINCT ON (event_id) * FROM stage_event s
WHERE NOT EXISTS (SELECT 1 FROM retired_event r WHERE r.event_id = s.event_id)
AND NOT EXISTS (
    SELECT 1 FROM stage_stored t WHERE t.event_id = s.event_id
    AND (t.frozen OR t.dataset <> s.dataset OR t.partner <> s.partner OR ({_stored_later("t", "s")}))
)
ORDER BY event_id, batch_seq DESC"""
# A stored event's record key goes to its staged versions, so a version moving to another month keeps it too.
_KEEP_KEYS = """UPDATE stage_event s SET record_key = t.record_key FROM stage_stored t
WHERE t.event_id = s.event_id AND (t.dataset, t.partner) = (s.dataset, s.partner)"""
# Events are partitioned by month: make the batch's partitions, and drop a stored version whose month changed.
_PARTITIONS = "SELECT hub_event_partition(m) FROM (SELECT DISTINCT period_month AS m FROM stage_event) s"
_MOVED = f"""SELECT t.event_id, t.period_month, s.dataset, s.partner,
    s.source_topic, s.source_partition, s.source_offset
FROM stage_stored t JOIN ({_LATEST}) s ON s.event_id = t.event_id AND (s.dataset, s.partner) = (t.dataset, t.partner)
WHERE t.period_month <> s.period_month"""
_UPSERT = f"""
INSERT INTO event ({", ".join(_STORED)})
SELECT {", ".join(_SELECTED)} FROM ({_LATEST}) s
ON CONFLICT (event_id, period_month) DO UPDATE SET {", ".join(_UPDATED)}, loaded_at = now()
WHERE (event.dataset, event.partner) = (EXCLUDED.dataset, EXCLUDED.partner)
AND NOT ({_stored_later("event", "EXCLUDED")}) AND event.fields_retired = '{{}}'
AND ({", ".join(f"event.{c}" for c in _CHANGED)}) IS DISTINCT FROM ({", ".join(f"EXCLUDED.{c}" for c in _CHANGED)})
"""

# A batch none of whose events has an earlier decision has none stored or retired (every stored or retired event came
# with its decision, and decisions are never deleted): no key to keep, no moved version, no stored version to probe
# for. Its latest versions go in with one insert; the upsert's guards stay for another worker (a rebalance's) that
# committed one of its events in the same month after the batch read the owners (in another month both would stand).
# A replay's batch or a retention run never runs between (warehouse/writers.py).
_NEW = f"""
INSERT INTO event ({", ".join(_STORED)})
SELECT {", ".join(_SELECTED)}
FROM (SELECT DISTINCT ON (event_id) * FROM stage_event ORDER BY event_id, batch_seq DESC) s
ON CONFLICT (event_id, period_month) DO UPDATE SET {", ".join(_UPDATED)}, loaded_at = now()
WHERE (event.dataset, event.partner) = (EXCLUDED.dataset, EXCLUDED.partner)
AND NOT ({_stored_later("event", "EXCLUDED")}) AND event.fields_retired = '{{}}'
AND ({", ".join(f"event.{c}" for c in _CHANGED)}) IS DISTINCT FROM ({", ".join(f"EXCLUDED.{c}" for c in _CHANGED)})
"""

Step = tuple[str, str]  # a statement's name (for `benchmarks/sink_statements.py`) and its SQL
# The stored-version path's first statements, after the batch's COPY (so that the stored versions are read as late as
# they can be); then the moved versions' deletion and `_UPSERT` (`WarehouseSink._upsert`).
_UPSERT_STEPS: tuple[Step, ...] = (("partitions", _PARTITIONS), ("stored", _FIND_STORED), ("keep_keys", _KEEP_KEYS))
_NEW_STEPS: tuple[Step, ...] = (("partitions", _PARTITIONS), ("insert_new", _NEW))
_STORED_STEPS: tuple[Step, ...] = (("stored", _FIND_STORED),)


def _insert(table: str, row_type: type, conflict: str, rows: int = 1) -> str:
    """INSERT of `rows` rows of `row_type` into `table`, skipping those that conflict on `conflict`."""
    columns = _columns(row_type)
    values = ", ".join([f"({', '.join(['%s'] * len(columns))})"] * rows)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values} ON CONFLICT ({conflict}) DO NOTHING"


# Decisions are copied into staging and go in as one statement, in batch order: the trigger keeping the
# data-quality tables (migration 0017) runs once per statement, not once per decision.
# A replay's decisions are told apart by their replay id (migration 0023): the worker's (NULL) dedupe among themselves
# as before, and a replay records its own even where the worker's identical decision exists.
_DECISIONS = f"""INSERT INTO decision ({", ".join(_DECISION_COLUMNS)}, replay_id)
SELECT {", ".join(_DECISION_COLUMNS)}, %s::bigint FROM stage_decision ORDER BY seq
ON CONFLICT (event_id, content_hash, outcome, protocols, replay_id) DO NOTHING"""


@lru_cache(maxsize=4096)
def _array_literal(values: tuple[str, ...]) -> str:
    """PostgreSQL's text form of a text[] (each element double-quoted, `"` and `\\` escaped), for COPY.

    The same few tuples (protocols, precisions, field names) recur through a batch: made once each, instead of
    psycopg's per-value array dumping (about 5 us per event for a decision's four arrays and an event's one).
    """
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


def _array_fields(row_type: type[EventRow | DecisionRow]) -> tuple[int, ...]:
    """Positions of a row type's tuple fields (text[] columns); a tuple field missed here is still dumped by psycopg."""
    hints = row_type.__annotations__  # forward references: their text names the type
    return tuple(i for i, name in enumerate(row_type._fields) if "tuple[str, ...]" in str(hints[name]))


_EVENT_ARRAYS = _array_fields(EventRow)
_DECISION_ARRAYS = _array_fields(DecisionRow)


def _copy_values(row: tuple[object, ...], arrays: tuple[int, ...]) -> list[object]:
    """A row's values for COPY, its text[] fields as array literals."""
    values = list(row)
    for i in arrays:
        values[i] = _array_literal(cast(tuple[str, ...], values[i]))
    return values


# The adapters `copy_text` formats with: psycopg's, tuples as arrays, as on the sink's connection (`_connection`);
# the types rows hold looked up once here, so that two threads formatting never make the map's first lookups at once.
_COPY_ADAPTERS = AdaptersMap(psycopg.adapters)
_COPY_ADAPTERS.register_dumper(tuple, ListDumper)
for _type in (str, int, float, bool, uuid.UUID, date, tuple):
    _COPY_ADAPTERS.get_dumper(_type, PyFormat.TEXT)


def _utf8(conn: psycopg.Connection[Any]) -> bool:
    """Whether `conn` speaks UTF-8 (the encoding of a `copy_text` made without a connection)."""
    return conn.info.encoding == "utf-8"


class CopyText(NamedTuple):
    """A batch's event rows and decisions as COPY text (`copy_text`), and how many of each it holds."""

    events: bytes
    decisions: bytes
    rows: int
    audits: int


def copy_text(
    events: Sequence[EventRow], decisions: Sequence[DecisionRow], connection: psycopg.Connection[Any] | None = None
) -> CopyText:
    """The COPY text of `events` and `decisions` (the decisions numbered in batch order), the one form the sink sends.

    Made where the rows are made (the loader's processing thread), so that the thread writing the batch before it,
    while its transaction is open, only sends it: formatted there, it made each transaction longer by about 17 us
    an event of the sink's Python (docs/benchmarks.md, "The write is the loader's critical path"). psycopg's
    formatter with the sink's dumpers (the text[] fields as array literals), in UTF-8 without a `connection`, else
    with that connection's adapters and client encoding (the sink's, for what it formats itself).
    """
    tx = Transformer(connection if connection is not None else _COPY_ADAPTERS)
    rows = bytearray()
    for row in events:
        format_row_text(_copy_values(row, _EVENT_ARRAYS), tx, rows)
    audits = bytearray()
    for seq, audit in enumerate(decisions):
        values = _copy_values(audit, _DECISION_ARRAYS)
        values.append(seq)
        format_row_text(values, tx, audits)
    return CopyText(bytes(rows), bytes(audits), len(events), len(decisions))


def _stage_decisions(cur: psycopg.Cursor[Any], text: bytes) -> None:
    """Copy the decisions' COPY text (`copy_text`, numbered in batch order) into staging."""
    with cur.copy(f"COPY stage_decision ({', '.join(_DECISION_COLUMNS)}, seq) FROM STDIN") as copy:
        copy.write(text)


_DEAD_LETTER = _insert("dead_letter", DeadLetterRow, "source_topic, source_partition, source_offset")
_RETRACTION = (
    "INSERT INTO retraction (event_id, dataset, partner, source_topic, source_partition, source_offset, removed) "
    "SELECT %(event_id)s, %(dataset)s::text, %(partner)s::text, %(source_topic)s::text, %(source_partition)s::int, "
    "%(source_offset)s::bigint, %(final)s AND EXISTS (SELECT 1 FROM event WHERE event_id = %(event_id)s "
    "AND dataset = %(dataset)s::text AND partner = %(partner)s::text AND NOT (source_topic = %(source_topic)s::text "
    "AND source_partition = %(source_partition)s::int AND source_offset > %(source_offset)s::bigint)) "
    "ON CONFLICT ON CONSTRAINT retraction_source_key DO NOTHING"
)
# Deletes stored versions by their whole key (a version that moved month, an event withdrawn), unless the stored one
# came from a later offset. The list drives a nested loop, one partition's key probed for each entry: left to choose,
# the planner hashed the whole event table to delete 20,000 of its 700,000 rows. The owner is compared with IS NOT
# DISTINCT FROM (the columns are NOT NULL), which no index serves: as an equality it let the planner probe the
# (dataset, period_month, ...) index instead, which reads the dataset's whole month for each key (it chose that for a
# partition made in the same batch, and with stale statistics for loaded ones: docs/benchmarks.md, Replay).
_DELETE_VERSIONS = f"""DELETE FROM event t
USING unnest(%s::uuid[], %s::date[], %s::text[], %s::text[], %s::text[], %s::int[], %s::bigint[])
    AS s(event_id, period_month, dataset, partner, source_topic, source_partition, source_offset)
WHERE t.event_id = s.event_id AND t.period_month = s.period_month
AND (t.dataset, t.partner) IS NOT DISTINCT FROM (s.dataset, s.partner) AND NOT ({_stored_later("t", "s")})"""
_NESTED_LOOPS = "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off"
_ANY_JOINS = "RESET enable_hashjoin; RESET enable_mergejoin"
Version = tuple[uuid.UUID, date, str, str, str, int, int]  # a stored version to delete: `_DELETE_VERSIONS`' columns


def withdrawals(
    withdrawn: Sequence[EventKey],
    claims: Sequence[EventClaim],
    retractions: Sequence[RetractionRow],
    months: Mapping[uuid.UUID, Sequence[date]],
) -> list[Version]:
    """Each stored version (`months`: where each event id is stored) of each withdrawn event, with the position of
    the batch's last message about it (its topic, partition and offset): a stored version from a later offset of that
    partition is not withdrawn. An event no claim or retraction places is withdrawn wherever it came from (an empty
    topic)."""
    last: dict[EventKey, tuple[str, int, int]] = {}
    for message in (*claims, *retractions):
        where = (message.source_topic, message.source_partition, message.source_offset)
        if message.key not in last or where[2] > last[message.key][2]:
            last[message.key] = where
    return [
        (key.event_id, month, key.dataset, key.partner, *last.get(key, ("", 0, 0)))
        for key in withdrawn
        for month in months.get(key.event_id, ())
    ]


# The owner of an event id: the dataset and partner of its first decision (decisions are never deleted). The ids that
# have one are staged (`stage_decided`): only they can have a stored version.
_OWNERS = """WITH owners AS (
    SELECT DISTINCT ON (event_id) event_id, dataset, partner FROM decision
    WHERE event_id = ANY(%s) ORDER BY event_id, id
), staged AS (INSERT INTO stage_decided SELECT event_id FROM owners)
SELECT event_id, dataset, partner FROM owners"""


@dataclass(frozen=True)
class Refusals:
    """What a batch may not write because another dataset or partner owns the event id, as dead letters."""

    refused: frozenset[EventKey]  # no row, decision, retraction or withdrawal of these: their messages are dead letters
    dead_letters: list[DeadLetterRow]


def _letter(topic: str, partition: int, offset: int, key: EventKey, reason: str) -> DeadLetterRow:
    return DeadLetterRow(topic, partition, offset, str(key.event_id), key.dataset, key.partner, reason)


def refusals(
    claims: Sequence[EventClaim], retractions: Iterable[RetractionRow], stored: Mapping[uuid.UUID, EventKey]
) -> Refusals:
    """Which claims and tombstones of a batch touch an event id that `stored` (or an earlier claim) gives to another.

    `claims` are in batch order: an id not yet stored belongs to the first claim on it. Reasons name the two
    datasets/partners only (identifiers, never payload).
    """
    owners = dict(stored)
    for claim in claims:
        owners.setdefault(claim.event_id, claim.key)
    letters: list[DeadLetterRow] = []
    refused: set[EventKey] = set()
    for claim in claims:
        owner = owners[claim.event_id]
        if owner != claim.key:
            refused.add(claim.key)
            reason = (
                f"event_id_conflict: the event id belongs to partner {owner.partner!r} ({owner.dataset}); "
                f"partner {claim.partner!r} ({claim.dataset}) may not replace or withdraw it"
            )
            letters.append(_letter(claim.source_topic, claim.source_partition, claim.source_offset, claim.key, reason))
    for tombstone in retractions:
        owner = owners.get(tombstone.event_id, tombstone.key)
        if owner != tombstone.key:
            where = (tombstone.source_topic, tombstone.source_partition, tombstone.source_offset)
            refused.add(tombstone.key)
            reason = (
                f"retraction_not_publisher: partner {tombstone.partner!r} ({tombstone.dataset}) did not publish "
                f"the event; partner {owner.partner!r} ({owner.dataset}) did"
            )
            letters.append(_letter(*where, tombstone.key, reason))
    return Refusals(frozenset(refused), letters)


Feed = tuple[str, str]  # (dataset, partner)


def first_schemes(messages: Iterable[EventClaim]) -> dict[Feed, str]:
    """Each feed's first id scheme among `messages` (those that name one), in their order."""
    first: dict[Feed, str] = {}
    for message in messages:
        if message.scheme is not None:
            first.setdefault((message.dataset, message.partner), message.scheme)
    return first


def scheme_refusals(messages: Iterable[EventClaim], kept: Mapping[Feed, str]) -> Refusals:
    """Which claims and tombstones name an id scheme other than the one `kept` for their feed, as dead letters.

    The reason names the two schemes only (`public` or `keyed:` and a key's fingerprint, never a key or an id).
    """
    letters: list[DeadLetterRow] = []
    refused: set[EventKey] = set()
    for message in messages:
        feed_scheme = kept.get((message.dataset, message.partner))
        if message.scheme is None or feed_scheme is None or message.scheme == feed_scheme:
            continue
        refused.add(message.key)
        reason = (
            f"id_scheme_conflict: partner {message.partner!r} ({message.dataset}) publishes event ids under scheme "
            f"{feed_scheme}; this message's id is under scheme {message.scheme}, so its record would load twice"
        )
        where = (message.source_topic, message.source_partition, message.source_offset)
        letters.append(_letter(*where, message.key, reason))
    return Refusals(frozenset(refused), letters)


# A feed's first id scheme is kept once (the first committed batch's wins: a concurrent writer's insert waits for
# it, then does nothing), in key order so that two writers never wait on each other; then read back.
_KEEP_SCHEMES = """INSERT INTO feed_id_scheme (dataset, partner, scheme)
SELECT * FROM unnest(%s::text[], %s::text[], %s::text[]) AS s(dataset, partner, scheme) ORDER BY dataset, partner
ON CONFLICT (dataset, partner) DO NOTHING"""
_KEPT_SCHEMES = """SELECT f.dataset, f.partner, f.scheme FROM feed_id_scheme f
JOIN unnest(%s::text[], %s::text[]) AS s(dataset, partner) USING (dataset, partner)"""


def _kept_schemes(cur: psycopg.Cursor[tuple[object, ...]], first: Mapping[Feed, str]) -> dict[Feed, str]:
    """Each feed of `first` with its kept id scheme: the one already kept, else (kept now) its first in the batch."""
    if not first:
        return {}
    feeds = sorted(first)
    datasets, partners = [d for d, _ in feeds], [p for _, p in feeds]
    cur.execute(_KEEP_SCHEMES, (datasets, partners, [first[feed] for feed in feeds]))
    rows = cast(list[tuple[str, str, str]], cur.execute(_KEPT_SCHEMES, (datasets, partners)).fetchall())
    return {(dataset, partner): scheme for dataset, partner, scheme in rows}


def _owners(cur: psycopg.Cursor[tuple[object, ...]], ids: set[uuid.UUID]) -> dict[uuid.UUID, EventKey]:
    """The owner of each of `ids` that has one: the dataset and partner of its first decision (those ids are
    staged)."""
    if not ids:
        return {}
    rows = cast(list[tuple[uuid.UUID, str, str]], cur.execute(_OWNERS, (list(ids),)).fetchall())
    return {row[0]: EventKey(*row) for row in rows}


class WarehouseSink:
    """Writes batches of events and dead letters; each batch is one transaction."""

    def __init__(self, url: str, replay_id: int | None = None) -> None:
        """`replay_id`: the `hub replay` run whose decisions this sink records (None: the worker's)."""
        self._url = url
        self._replay_id = replay_id
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None

    def _connection(self) -> psycopg.Connection[tuple[object, ...]]:
        if self._conn is None or self._conn.closed:
            self._conn = connect_raw(self._url)
            self._conn.adapters.register_dumper(tuple, ListDumper)  # rows' tuples are arrays, with no copy per row
            self._conn.execute(_STAGE)
            self._conn.commit()
        return self._conn

    def write(
        self,
        events: Sequence[EventRow],
        dead_letters: Sequence[DeadLetterRow],
        decisions: Sequence[DecisionRow] = (),
        withdrawn: Sequence[EventKey] = (),
        retractions: Sequence[RetractionRow] = (),
        claims: Sequence[EventClaim] = (),
        text: CopyText | None = None,
    ) -> list[DeadLetterRow]:
        """Upsert `events`, delete `withdrawn` ones, record decisions, retractions and dead letters, in one commit.

        `text`: `events` and `decisions` as `copy_text` made them (for these rows: only their counts are checked),
        sent as it is unless the sink refuses any of them or the connection's client encoding is not UTF-8; without
        it (or then) the sink makes the text of what it writes itself.

        `claims` (one per decoded message, in batch order) say which event ids the batch touches: those another
        dataset or partner owns are refused (see `refusals`), and so are claims and retractions under an id scheme
        other than the one kept for their feed (`scheme_refusals`; a feed's first scheme is kept with this commit).
        Returns the dead letters the refusals made (recorded here too), for the caller to publish with its own.
        """
        conn = self._connection()
        try:
            with conn.cursor() as cur:
                self._writers_lock(cur)
                kept = _kept_schemes(cur, first_schemes([*claims, *retractions]))
                by_scheme = scheme_refusals([*claims, *retractions], kept)
                claims = [c for c in claims if c.key not in by_scheme.refused]
                retractions = [r for r in retractions if r.key not in by_scheme.refused]
                touched = {c.event_id for c in claims} | {r.event_id for r in retractions}
                stored = _owners(cur, touched | {e.event_id for e in events})
                by_owner = refusals(claims, retractions, stored)
                gone = by_scheme.refused | by_owner.refused
                made = [*by_scheme.dead_letters, *by_owner.dead_letters]
                if gone:
                    events = [e for e in events if EventKey(e.event_id, e.dataset, e.partner) not in gone]
                    decisions = [d for d in decisions if EventKey(d.event_id, d.dataset, d.partner) not in gone]
                if text is None or (text.rows, text.audits) != (len(events), len(decisions)) or not _utf8(conn):
                    text = copy_text(events, decisions, conn)  # none made, some refused, or not UTF-8 here
                withdrawn = [key for key in withdrawn if key not in gone]
                retractions = [r for r in retractions if r.key not in gone]
                letters = [*dead_letters, *made]
                new = not any(e.event_id in stored for e in events)  # no earlier decision: none stored
                found = False  # the stored versions staged
                if events:
                    with cur.copy(f"COPY stage_event ({', '.join(_STAGED)}) FROM STDIN") as copy:
                        copy.write(text.events)
                    found = self._upsert(cur, new)
                if retractions:
                    cur.executemany(_RETRACTION, [asdict(r) for r in retractions])
                if withdrawn:
                    self._withdraw(cur, withdrawn, claims, retractions, probe=bool(stored) and not found)
                if decisions:
                    _stage_decisions(cur, text.decisions)
                    self._execute(cur, "decisions", _DECISIONS, (self._replay_id,))
                if letters:
                    cur.executemany(_DEAD_LETTER, [_sql_values(d) for d in letters])
            conn.commit()
        except BaseException:
            self.close()
            raise
        return made

    def _writers_lock(self, cur: psycopg.Cursor[Any]) -> None:
        """Take the writers' lock (warehouse/writers.py): exclusive for a replay's sink, shared for the worker's."""
        cur.execute(writers_lock(exclusive=self._replay_id is not None))

    def _upsert(self, cur: psycopg.Cursor[Any], new: bool) -> bool:
        """Write the staged events: with one insert if `new` (none stored), else by the stored-version path, which
        stages the stored versions (returns whether it did)."""
        if new:
            self._steps(cur, _NEW_STEPS)
            return False
        self._steps(cur, _UPSERT_STEPS)
        self._delete(cur, "moved", cast(list[Version], self._fetch(cur, "moved", _MOVED, ())))
        self._execute(cur, "upsert", _UPSERT, ())
        return True

    def _withdraw(
        self,
        cur: psycopg.Cursor[Any],
        withdrawn: Sequence[EventKey],
        claims: Sequence[EventClaim],
        retractions: Sequence[RetractionRow],
        probe: bool,
    ) -> None:
        """Delete each stored version of the `withdrawn` events; `probe`: stage the stored versions first (the
        batch's upsert did not)."""
        if probe:
            self._steps(cur, _STORED_STEPS)
        months = self._stored_months(cur, {key.event_id for key in withdrawn})
        self._delete(cur, "withdrawn", withdrawals(withdrawn, claims, retractions, months))

    def _stored_months(self, cur: psycopg.Cursor[Any], ids: set[uuid.UUID]) -> dict[uuid.UUID, list[date]]:
        """The months each of `ids` is stored in (of those `_FIND_STORED` staged)."""
        stored: dict[uuid.UUID, list[date]] = {}
        for event_id, month in cast(
            list[tuple[uuid.UUID, date]], self._fetch(cur, "months", _STORED_MONTHS, (list(ids),))
        ):
            stored.setdefault(event_id, []).append(month)
        return stored

    def _delete(self, cur: psycopg.Cursor[Any], name: str, versions: Sequence[Version]) -> None:
        """Delete the stored `versions` (the statement `name`), each by its key."""
        if not versions:
            return
        cur.execute(_NESTED_LOOPS)
        self._execute(cur, name, _DELETE_VERSIONS, tuple(list(column) for column in zip(*versions, strict=True)))
        cur.execute(_ANY_JOINS)

    def _fetch(self, cur: psycopg.Cursor[Any], name: str, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        """Run the statement `name` and return its rows."""
        return cur.execute(sql, params or None).fetchall()

    def _steps(self, cur: psycopg.Cursor[Any], steps: Sequence[Step]) -> None:
        """Run `steps` (statements without parameters) in one round trip."""
        cur.execute(";\n".join(sql for _, sql in steps))

    def _execute(self, cur: psycopg.Cursor[Any], name: str, sql: str, params: Sequence[object]) -> None:
        """Run the statement `name`."""
        cur.execute(sql, params or None)

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None
