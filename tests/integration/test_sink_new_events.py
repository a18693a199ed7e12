"""A batch whose events have no earlier decision goes in with one insert; any other batch keeps the stored-version path.

Each case writes through `WarehouseSink` into the real warehouse and checks the rows against what the stored state
and the batch's order say they must be: a moved version replaces its stored one and keeps its record key, a retired
event stays out, a version from a later offset (committed by another writer after the batch read the owners) is not
replaced, and of two versions in one batch the later wins. Other writers are let in mid-batch: another worker
(the writers' lock is shared between workers) is seen, and a worker's batch beside a replay's, or a retention run
beside a worker's, waits for the writers' lock (warehouse/writers.py).
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import psycopg
import pytest
from sqlalchemy import text

from tests.support.hub import HubEnv
from warehouse.governance.replays import ReplayScope, start_replay
from warehouse.governance.retention import run_field_retention
from warehouse.schema.db import session_scope
from warehouse.sink import DecisionRow, EventClaim, EventKey, EventRow, Step, Version, WarehouseSink

DATASET, PARTNER, TOPIC = "police-uk-street", "new-events-test", "new-events-test-topic"
JANUARY, MARCH = date(2019, 1, 1), date(2019, 3, 1)


def _event(event_id: uuid.UUID, month: date, offset: int, content: str, key: int, seq: int = 0) -> EventRow:
    return EventRow(
        event_id, DATASET, PARTNER, 1, month, month.replace(day=28), "month", month, "burglary", "{}", None, None,
        "no_location", None, None, content, TOPIC, 0, offset, key, batch_seq=seq,
    )  # fmt: skip


def _decision(row: EventRow) -> DecisionRow:
    return DecisionRow(row.event_id, row.content_hash, DATASET, PARTNER, row.period_month, "released", None, None,
                       (), (), (), None)  # fmt: skip


def _claim(row: EventRow) -> EventClaim:
    return EventClaim(row.event_id, DATASET, PARTNER, TOPIC, 0, row.source_offset)


class _Sink(WarehouseSink):
    """The worker's sink, waiting at most 20 s for a lock: a test whose writers wait on each other fails, not hangs."""

    def _connection(self) -> psycopg.Connection[tuple[object, ...]]:
        fresh = self._conn is None or self._conn.closed
        conn = super()._connection()
        if fresh:
            conn.execute("SET lock_timeout = '20s'")
            conn.commit()
        return conn


def _write(hub_env: HubEnv, rows: list[EventRow]) -> None:
    sink = _Sink(hub_env.worker_url)
    try:
        assert sink.write(rows, [], [_decision(r) for r in rows], claims=[_claim(r) for r in rows]) == []
    finally:
        sink.close()


def _stored(hub_env: HubEnv, *ids: uuid.UUID) -> list[tuple[object, ...]]:
    return hub_env.query(
        "SELECT event_id, period_month, content_hash, record_key FROM event WHERE event_id = ANY(:ids) "
        "ORDER BY event_id, period_month",
        ids=list(ids),
    )


def test_new_events_go_in_with_the_latest_version_of_each(hub_env: HubEnv) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    _write(
        hub_env,
        [_event(a, JANUARY, 10, "a-1", 1, 0), _event(b, JANUARY, 11, "b-1", 2, 1), _event(a, MARCH, 12, "a-2", 3, 2)],
    )
    assert sorted(_stored(hub_env, a, b)) == sorted([(a, MARCH, "a-2", 3), (b, JANUARY, "b-1", 2)])
    decided = hub_env.query("SELECT count(*) FROM decision WHERE event_id = ANY(:ids)", ids=[a, b])
    assert decided == [(3,)]


def test_a_stored_event_in_the_batch_keeps_the_stored_version_path(hub_env: HubEnv) -> None:
    """With one new event beside it, a stored event moved to another month replaces its version (one row, its
    record key kept): taking the new-events insert for this batch would leave two rows and a fresh key."""
    stored, fresh = uuid.uuid4(), uuid.uuid4()
    _write(hub_env, [_event(stored, JANUARY, 20, "s-1", 111)])
    _write(hub_env, [_event(fresh, JANUARY, 21, "f-1", 5, 0), _event(stored, MARCH, 22, "s-2", 999, 1)])
    assert _stored(hub_env, stored) == [(stored, MARCH, "s-2", 111)]
    assert _stored(hub_env, fresh) == [(fresh, JANUARY, "f-1", 5)]


def test_a_retired_event_beside_new_ones_is_not_loaded_again(hub_env: HubEnv) -> None:
    retired, fresh = uuid.uuid4(), uuid.uuid4()
    _write(hub_env, [_event(retired, JANUARY, 30, "r-1", 7)])
    with hub_env.engine.begin() as conn:  # as retention deletes it
        conn.execute(text("DELETE FROM event WHERE event_id = :e"), {"e": retired})
        conn.execute(text("INSERT INTO retired_event (event_id) VALUES (:e)"), {"e": retired})
    _write(hub_env, [_event(fresh, JANUARY, 31, "f-1", 8, 0), _event(retired, MARCH, 32, "r-2", 9, 1)])
    assert _stored(hub_env, retired) == []
    assert _stored(hub_env, fresh) == [(fresh, JANUARY, "f-1", 8)]


def test_a_later_version_another_writer_committed_is_not_replaced(hub_env: HubEnv) -> None:
    """The new-events insert keeps the upsert's guards: a version from a later offset of the same partition, stored
    by a writer that committed after this batch read the owners (no decision of it yet here), stays."""
    event_id = uuid.uuid4()
    later = _event(event_id, JANUARY, 41, "later", 12)
    sink = WarehouseSink(hub_env.worker_url)
    try:
        sink.write([later], [])  # the other writer's row; its decision is left out, as if not yet visible
    finally:
        sink.close()
    _write(hub_env, [_event(event_id, JANUARY, 40, "earlier", 13)])
    assert _stored(hub_env, event_id) == [(event_id, JANUARY, "later", 12)]
    _write(hub_env, [_event(event_id, JANUARY, 42, "latest", 14)])
    assert _stored(hub_env, event_id) == [(event_id, JANUARY, "latest", 12)]  # newer content, the stored key


class PlanSink(WarehouseSink):
    """A sink that asks the planner for each statement's plan (EXPLAIN, not run) before running it."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.plans: dict[str, list[dict[str, Any]]] = {}

    def _plan(self, cur: psycopg.Cursor[Any], name: str, sql: str, params: Sequence[object]) -> None:
        row = cur.execute(f"EXPLAIN (FORMAT JSON) {sql}", params or None).fetchone()
        assert row is not None
        self.plans.setdefault(name, []).append(row[0][0]["Plan"])

    def _steps(self, cur: psycopg.Cursor[Any], steps: Sequence[Step]) -> None:
        for name, sql in steps:
            self._plan(cur, name, sql, ())
            cur.execute(sql)

    def _execute(self, cur: psycopg.Cursor[Any], name: str, sql: str, params: Sequence[object]) -> None:
        self._plan(cur, name, sql, params)
        super()._execute(cur, name, sql, params)

    def _fetch(self, cur: psycopg.Cursor[Any], name: str, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        self._plan(cur, name, sql, params)
        return super()._fetch(cur, name, sql, params)


def _event_reads(plan: dict[str, Any], year: int) -> list[tuple[str, str]]:
    """Each node of `plan` that reads a partition holding the stored versions of the test below (January to March of
    `year`): its type and index condition. Other partitions, small or made empty in the batch, may be planned as
    sequential scans; run-time pruning skips them."""
    read = re.fullmatch(f"event_y{year}m0[123]", plan.get("Relation Name", ""))
    here = [(plan["Node Type"], plan.get("Index Cond", ""))] if read else []
    return here + [read for child in plan.get("Plans", []) for read in _event_reads(child, year)]


def _monthly(ids: list[uuid.UUID], offset: int, months: Sequence[date], tag: str) -> list[EventRow]:
    return [_event(event_id, months[i % len(months)], offset + i, f"{tag}-{i}", i, i) for i, event_id in enumerate(ids)]


def _analyze(hub_env: HubEnv) -> None:
    with hub_env.engine.begin() as conn:
        conn.execute(text("ANALYZE event"))


@pytest.mark.parametrize(("year", "statistics"), [(1999, "fresh"), (1998, "stale")])
def test_a_replayed_batch_reads_and_deletes_stored_versions_only_by_their_whole_key(
    hub_env: HubEnv, year: int, statistics: str
) -> None:
    """A batch re-writing 6,000 stored events of three months, a third of them moved to a fourth month and a sixth
    withdrawn: every read of a partition holding them, in every statement, is an index probe on (event id, month),
    with fresh statistics (under which the planner hashed the whole event table for probes by id alone) or stale
    ones (taken when the months held 30 events: it then probed the (dataset, month) index for each key). The rows,
    record keys and kept counts are then what the batch says."""
    months, fourth = [date(year, m, 1) for m in (1, 2, 3)], date(year, 4, 1)
    earlier = _monthly([uuid.uuid4() for _ in range(30)], 100, months, "v0") if statistics == "stale" else []
    if earlier:
        _write(hub_env, earlier)
        _analyze(hub_env)
    ids = [uuid.uuid4() for _ in range(6000)]
    first = _monthly(ids, 1000, months, "v1")
    _write(hub_env, first)
    if not earlier:
        _analyze(hub_env)
    moved, withdrawn = set(ids[::3]), set(ids[1::6])
    again = [
        _event(r.event_id, fourth if r.event_id in moved else r.period_month, 9000 + r.source_offset,
               f"v2-{r.content_hash}", 60000 + r.record_key, r.batch_seq)
        for r in first if r.event_id not in withdrawn
    ]  # fmt: skip
    claims = [_claim(r) for r in again] + [EventClaim(e, DATASET, PARTNER, TOPIC, 0, 20000) for e in withdrawn]
    sink = PlanSink(hub_env.worker_url)
    try:
        keys = [EventKey(e, DATASET, PARTNER) for e in withdrawn]
        assert sink.write(again, [], [_decision(r) for r in again], keys, claims=claims) == []
    finally:
        sink.close()
    assert {"stored", "keep_keys", "moved", "upsert", "withdrawn"} <= sink.plans.keys()
    reads = [(name, read) for name, plans in sink.plans.items() for plan in plans for read in _event_reads(plan, year)]
    assert {name for name, _ in reads} == {"stored", "moved", "withdrawn"}  # the probe and the two deletes
    for name, (node, condition) in reads:
        assert node in ("Index Scan", "Index Only Scan"), (name, node)
        assert "event_id" in condition and "period_month" in condition, (name, condition)
    stored = {row[0]: row for row in _stored(hub_env, *ids)}
    assert stored.keys() == set(ids) - withdrawn
    for r in first:
        if r.event_id not in withdrawn:
            month = fourth if r.event_id in moved else r.period_month
            assert stored[r.event_id] == (r.event_id, month, f"v2-{r.content_hash}", r.record_key)  # its key kept
    where = "dataset = :d AND period_month BETWEEN :a AND :b"
    counted = hub_env.query(
        f"SELECT period_month, sum(events)::int FROM event_count WHERE {where} GROUP BY 1 HAVING sum(events) <> 0 "
        "ORDER BY 1",
        d=DATASET, a=months[0], b=fourth,
    )  # fmt: skip
    grouped = hub_env.query(
        f"SELECT period_month, count(*)::int FROM event WHERE {where} GROUP BY 1 ORDER BY 1",
        d=DATASET, a=months[0], b=fourth,
    )  # fmt: skip
    assert counted == grouped and sum(n for _, n in grouped) == len(earlier) + len(ids) - len(withdrawn)


def _withdraw(hub_env: HubEnv, event_id: uuid.UUID, offset: int) -> None:
    """A batch that only withdraws `event_id`, by a message at `offset` of partition 0."""
    sink = _Sink(hub_env.worker_url)
    try:
        key = EventKey(event_id, DATASET, PARTNER)
        assert sink.write([], [], [], [key], claims=[EventClaim(*key, TOPIC, 0, offset)]) == []
    finally:
        sink.close()


def test_a_version_moving_back_to_an_earlier_month_replaces_the_one_stored_and_keeps_its_key(hub_env: HubEnv) -> None:
    """The event's decisions name January twice and March: its stored version is found in March, not January."""
    event_id = uuid.uuid4()
    _write(hub_env, [_event(event_id, JANUARY, 50, "m-1", 21)])
    _write(hub_env, [_event(event_id, MARCH, 51, "m-2", 22)])
    _write(hub_env, [_event(event_id, JANUARY, 52, "m-3", 23)])
    assert _stored(hub_env, event_id) == [(event_id, JANUARY, "m-3", 21)]


def test_an_event_withdrawn_after_it_moved_month_is_gone_from_its_new_month(hub_env: HubEnv) -> None:
    event_id, kept = uuid.uuid4(), uuid.uuid4()
    _write(hub_env, [_event(event_id, JANUARY, 60, "w-1", 31), _event(kept, JANUARY, 61, "k-1", 32, 1)])
    _write(hub_env, [_event(event_id, MARCH, 62, "w-2", 33)])
    _withdraw(hub_env, event_id, 63)
    assert _stored(hub_env, event_id) == []
    assert _stored(hub_env, kept) == [(kept, JANUARY, "k-1", 32)]


def test_an_older_message_withdraws_no_later_stored_version(hub_env: HubEnv) -> None:
    event_id = uuid.uuid4()
    _write(hub_env, [_event(event_id, MARCH, 71, "o-2", 41)])
    _withdraw(hub_env, event_id, 70)
    assert _stored(hub_env, event_id) == [(event_id, MARCH, "o-2", 41)]


class InterleavedSink(_Sink):
    """A sink that lets another writer commit (`meanwhile`, on its own connection) after it has read the batch's
    owners and staged its events, just before its stored-version statements run."""

    def __init__(self, url: str, meanwhile: Callable[[], None]) -> None:
        super().__init__(url)
        self._meanwhile = meanwhile

    def _upsert(self, cur: psycopg.Cursor[Any], new: bool) -> bool:
        self._meanwhile()
        return super()._upsert(cur, new)


def _interleaved(hub_env: HubEnv, rows: list[EventRow], meanwhile: Callable[[], None]) -> None:
    sink = InterleavedSink(hub_env.worker_url, meanwhile)
    try:
        assert sink.write(rows, [], [_decision(r) for r in rows], claims=[_claim(r) for r in rows]) == []
    finally:
        sink.close()


def test_a_version_another_writer_moved_to_another_month_meanwhile_is_not_doubled(hub_env: HubEnv) -> None:
    """A worker re-writes an event's first version (January, offset 80: a redelivered batch, as after a rebalance)
    while another worker, committing first, moves it to March (offset 81): the stored versions are read after that
    commit, so the older version is not written back into January beside the later one. (Workers share the
    writers' lock; a replay's batch could not run in between: the lock tests below.)"""
    event_id = uuid.uuid4()
    first = _event(event_id, JANUARY, 80, "r-1", 51)
    _write(hub_env, [first])
    _interleaved(hub_env, [first], lambda: _write(hub_env, [_event(event_id, MARCH, 81, "r-2", 52)]))
    assert _stored(hub_env, event_id) == [(event_id, MARCH, "r-2", 51)]


def test_an_event_retention_retired_meanwhile_is_not_loaded_again(hub_env: HubEnv) -> None:
    """A writer that does not take the writers' lock (as retention did before it) retires the event between the
    batch's owners' read and its stored-version read: the event is not loaded again."""
    event_id = uuid.uuid4()
    _write(hub_env, [_event(event_id, JANUARY, 90, "t-1", 61)])

    def retire() -> None:  # as retention deletes it, committed before the batch's stored-version statements
        with hub_env.engine.begin() as conn:
            conn.execute(text("DELETE FROM event WHERE event_id = :e"), {"e": event_id})
            conn.execute(text("INSERT INTO retired_event (event_id) VALUES (:e)"), {"e": event_id})

    _interleaved(hub_env, [_event(event_id, JANUARY, 91, "t-2", 62)], retire)
    assert _stored(hub_env, event_id) == []


class PausedSink(_Sink):
    """A sink that runs `meanwhile` after it has read the batch's stored versions, before it deletes the moved ones
    and upserts: the window in which another writer's commit would go unseen."""

    def __init__(self, url: str, meanwhile: Callable[[], None], replay_id: int | None = None) -> None:
        super().__init__(url, replay_id)
        self._meanwhile = meanwhile

    def _delete(self, cur: psycopg.Cursor[Any], name: str, versions: Sequence[Version]) -> None:
        if name == "moved":
            self._meanwhile()
        super()._delete(cur, name, versions)


class _Writer(threading.Thread):
    """Another writer, on its own connection: `work` run in a thread, its error kept."""

    def __init__(self, work: Callable[[], object]) -> None:
        super().__init__(daemon=True)
        self._work = work
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._work()
        except BaseException as exc:
            self.error = exc


# Sessions waiting for the writers' lock: PostgreSQL shows a one-bigint advisory key's low 32 bits as `objid`.
_WAITING = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objsubid = 1 "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND objid::bigint = (hashtext('hub_event_writers')::bigint & 4294967295)"
)


def _start_waiting(hub_env: HubEnv, work: Callable[[], object]) -> _Writer:
    """Start `work` on its own connection and return once it waits for the writers' lock (it must not finish)."""
    writer = _Writer(work)
    writer.start()
    deadline = time.monotonic() + 20
    while hub_env.query(_WAITING) == [(0,)]:
        assert writer.is_alive(), f"the other writer did not wait for the writers' lock ({writer.error!r})"
        assert time.monotonic() < deadline, "the other writer neither finished nor waited for the writers' lock"
        time.sleep(0.02)
    return writer


def _finish(writer: _Writer) -> None:
    writer.join(30)
    assert not writer.is_alive()
    if writer.error is not None:
        raise writer.error


def test_a_worker_batch_waits_for_a_replay_batch_between_its_read_and_its_write(hub_env: HubEnv) -> None:
    """A replay re-writes an event's March version (offset 5) over its stored January one (offset 3) while the worker
    loads a later January version (offset 10). Had the worker committed between the replay's read of the stored
    versions and its write, the replay's delete of the January version would skip a later one and its upsert add
    March beside it. The worker's batch waits for the replay's commit instead, then moves the event back."""
    event_id = uuid.uuid4()
    _write(hub_env, [_event(uuid.uuid4(), MARCH, 1, "p-1", 81), _event(event_id, JANUARY, 3, "x-1", 71, 1)])
    with session_scope(hub_env.engine) as session:
        replay_id = start_replay(session, "test: the writers' lock", ReplayScope(DATASET, None), {}, "test", [])
    writers: list[_Writer] = []

    def worker() -> None:
        writers.append(_start_waiting(hub_env, lambda: _write(hub_env, [_event(event_id, JANUARY, 10, "x-2", 73)])))

    replayed = _event(event_id, MARCH, 5, "x-r", 72)
    sink = PausedSink(hub_env.worker_url, worker, replay_id)
    try:
        assert sink.write([replayed], [], [_decision(replayed)], claims=[_claim(replayed)]) == []
    finally:
        sink.close()
    _finish(writers[0])
    assert _stored(hub_env, event_id) == [(event_id, JANUARY, "x-2", 71)]
    months = "SELECT period_month, replay_id IS NULL FROM decision WHERE event_id = :e ORDER BY id"
    assert hub_env.query(months, e=event_id) == [(JANUARY, True), (MARCH, False), (JANUARY, True)]


def test_a_retention_run_waits_for_a_worker_batch_in_flight(hub_env: HubEnv) -> None:
    """Retention deletes events and removes fields: it takes the writers' lock exclusively, so it runs between
    batches, never between a batch's read of the stored versions and its write. (Run as of 1900: it removes nothing
    of the other tests' events.)"""
    event_id = uuid.uuid4()
    writers: list[_Writer] = []

    def retention() -> tuple[dict[str, int], dict[tuple[str, str], int]]:
        with session_scope(hub_env.engine) as session:
            return run_field_retention(session, date(1900, 1, 1))

    def meanwhile() -> None:
        writers.append(_start_waiting(hub_env, retention))

    _interleaved(hub_env, [_event(event_id, JANUARY, 30, "y-1", 91)], meanwhile)
    _finish(writers[0])
    assert _stored(hub_env, event_id) == [(event_id, JANUARY, "y-1", 91)]
