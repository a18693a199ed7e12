"""A batch whose events have no earlier decision goes in with one insert; any other batch keeps the stored-version path.

Each case writes through `WarehouseSink` into the real warehouse and checks the rows against what the stored state
and the batch's order say they must be: a moved version replaces its stored one and keeps its record key, a retired
event stays out, a version from a later offset (committed by another writer after the batch read the owners) is not
replaced, and of two versions in one batch the later wins.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import text

from tests.support.hub import HubEnv
from warehouse.sink import DecisionRow, EventClaim, EventRow, WarehouseSink

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


def _write(hub_env: HubEnv, rows: list[EventRow]) -> None:
    sink = WarehouseSink(hub_env.worker_url)
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
