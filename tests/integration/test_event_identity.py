"""Event identity that cannot double-load (issue 17), on the real broker and database with the real worker.

The Eastbourne police.uk file is published three times by `hub publish`: with a record-id key, without one, and
with another key. Each publish makes other event ids for the same records; the worker keeps the feed's first id
scheme and dead-letters the other two publishes' messages (`id_scheme_conflict`), so every record is loaded once.
A `hub replay` of the topic afterwards does the same; two sinks keeping a new feed's first scheme at once agree on it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from sharing_protocols.id_scheme import PUBLIC, scheme_for
from tests.support.hub import HubEnv, Worker
from tests.support.open_data import EASTBOURNE_STREET
from warehouse.sink import EventClaim, WarehouseSink

pytestmark = pytest.mark.integration

DATASET, PARTNER = "police-uk-street", "police-uk"
DEMO_KEY, OTHER_KEY = "r" * 48, "o" * 48  # HUB_LINKAGE_KEY_RECORD_IDS as `hub demo` sets it, and another key
RUNS = {"keyed": DEMO_KEY, "public": None, "other": OTHER_KEY}  # publish order: the first scheme is the feed's


def _hub(hub_env: HubEnv, *args: str, record_key: str | None = None, worker: bool = False) -> str:
    env = {**os.environ, **hub_env.env, "HUB_LINKAGE_KEY_PERSON": "p" * 48, **(hub_env.worker_env if worker else {})}
    env.pop("HUB_LINKAGE_KEY_RECORD_IDS", None)
    if record_key is not None:
        env["HUB_LINKAGE_KEY_RECORD_IDS"] = record_key
    done = subprocess.run(
        [sys.executable, "-m", "deploy.cli", *args], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout + done.stderr


def _scheme(key: str | None) -> str:
    """The scheme `hub publish` names for a key given as HUB_LINKAGE_KEY_RECORD_IDS (read as UTF-8 bytes)."""
    return PUBLIC if key is None else scheme_for(key.encode())


def _published(output: str) -> int:
    """The events `hub publish` says it published (rows read, less exact duplicates and rejected rows)."""
    found = re.search(r"(\d+) rows read, (\d+) published, 0 retracted", output)
    assert found is not None, output
    return int(found[2])


@pytest.fixture(scope="module")
def published(hub_env: HubEnv, worker: Worker, shared_data: Path) -> dict[str, str]:
    """The file published under the three schemes in turn, each loaded before the next; `hub publish`'s output."""
    outputs = {}
    for name, key in RUNS.items():
        outputs[name] = _hub(hub_env, "publish", DATASET, str(shared_data / EASTBOURNE_STREET), record_key=key)
        worker.wait_until_loaded()
    return outputs


def _count(hub_env: HubEnv, sql: str) -> int:
    return int(hub_env.query(sql, d=DATASET)[0][0])


def test_publish_names_its_scheme_by_fingerprint_never_the_key(published: dict[str, str]) -> None:
    for name, key in RUNS.items():
        assert f"event ids made under id scheme {_scheme(key)}" in published[name]
        if key is not None:
            assert key not in published[name]


def test_each_record_is_loaded_once_and_the_other_schemes_messages_are_dead_lettered(
    published: dict[str, str], hub_env: HubEnv
) -> None:
    rows = _published(published["keyed"])
    assert {_published(output) for output in published.values()} == {rows}
    on_topic = _count(hub_env, "SELECT count(*) FROM decision WHERE dataset = :d AND replay_id IS NULL") + _count(
        hub_env, "SELECT count(*) FROM dead_letter WHERE dataset = :d"
    )
    events = _count(hub_env, "SELECT count(*) FROM event WHERE dataset = :d")
    distinct = _count(hub_env, "SELECT count(DISTINCT event_id) FROM event WHERE dataset = :d")
    decisions = hub_env.query(
        "SELECT event_id, outcome FROM decision WHERE dataset = :d AND replay_id IS NULL", d=DATASET
    )
    released = sum(1 for _, outcome in decisions if outcome == "released")
    letters = Counter(r[0] for r in hub_env.query("SELECT reason FROM dead_letter WHERE dataset = :d", d=DATASET))
    print(  # the figures, for the report
        f"\n{rows} rows x 3 publishes; decisions {len(decisions)} ({released} released), events {events} "
        f"({distinct} distinct), dead letters {sum(letters.values())}: {dict(letters)}"
    )
    kept = _scheme(DEMO_KEY)
    assert hub_env.query("SELECT dataset, partner, scheme FROM feed_id_scheme") == [(DATASET, PARTNER, kept)]
    assert len({event_id for event_id, _ in decisions}) == len(decisions) == rows  # one decision per record
    assert events == distinct == released > 0
    assert letters == {
        f"id_scheme_conflict: partner {PARTNER!r} ({DATASET}) publishes event ids under scheme {kept}; this "
        f"message's id is under scheme {_scheme(key)}, so its record would load twice": rows
        for key in (None, OTHER_KEY)
    }
    assert on_topic == 3 * rows


def test_event_count_equals_a_group_by_over_event(published: dict[str, str], hub_env: HubEnv) -> None:
    keys = "dataset, period_month, category, ward_code, location_status, protocols"
    counted: list[tuple[Any, ...]] = hub_env.query(
        f"SELECT {keys}, sum(events), sum(total) FROM event_count WHERE dataset = :d AND events <> 0 "
        f"GROUP BY {keys} ORDER BY {keys}",
        d=DATASET,
    )
    grouped = hub_env.query(
        f"SELECT {keys}, count(*), sum(weight) FROM event WHERE dataset = :d GROUP BY {keys} ORDER BY {keys}",
        d=DATASET,
    )
    assert counted == grouped
    assert sum(r[-2] for r in counted) == _count(hub_env, "SELECT count(*) FROM event WHERE dataset = :d")


def test_a_replay_of_the_topic_refuses_the_other_schemes_again_and_doubles_nothing(
    published: dict[str, str], hub_env: HubEnv
) -> None:
    before = hub_env.query("SELECT event_id, content_hash FROM event WHERE dataset = :d ORDER BY 1", d=DATASET)
    _hub(hub_env, "replay", "--reason", "issue 17 id schemes", "--dataset", DATASET, worker=True)
    rows = _published(published["keyed"])
    [(messages, released, withheld, dead)] = hub_env.query(
        "SELECT messages, released, withheld, dead_lettered FROM replay_run ORDER BY id DESC LIMIT 1"
    )
    print(f"\nreplay: {messages} messages, {released} released, {withheld} withheld, {dead} dead-lettered")
    assert messages == 3 * rows
    assert dead == 2 * rows and released + withheld == rows
    assert hub_env.query("SELECT event_id, content_hash FROM event WHERE dataset = :d ORDER BY 1", d=DATASET) == before


def test_two_sinks_writing_a_new_feeds_first_scheme_at_once_agree_on_it(hub_env: HubEnv) -> None:
    """Both sinks (as the worker's role) are held at their first statement by a lock, then released together: one
    keeps its scheme, the other waits for it, reads it back and dead-letters its own claim."""
    dataset, partner = "police-uk-street", "concurrent-partner"
    topic = hub_env.kafka.partner_topic(dataset, partner)
    schemes = [_scheme(None), _scheme(OTHER_KEY)]
    claims = [
        EventClaim(uuid.uuid4(), dataset, partner, topic, 0, offset, scheme=scheme)
        for offset, scheme in enumerate(schemes)
    ]
    sinks = [WarehouseSink(hub_env.worker_url) for _ in claims]
    with hub_env.engine.connect() as holder, ThreadPoolExecutor(max_workers=2) as pool:
        holder.execute(text("LOCK TABLE feed_id_scheme IN SHARE MODE"))  # holds back both sinks' insert
        writes = [pool.submit(sink.write, [], [], claims=[claim]) for sink, claim in zip(sinks, claims, strict=True)]
        waiting, deadline = 0, time.monotonic() + 20
        while waiting < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
            [(waiting,)] = hub_env.query(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'feed_id_scheme'::regclass"
            )
        holder.commit()
        letters = [write.result(timeout=30) for write in writes]
    for sink in sinks:
        sink.close()
    assert waiting == 2  # both were inside their transaction at once, waiting for the lock
    [kept] = hub_env.query("SELECT scheme FROM feed_id_scheme WHERE partner = :p", p=partner)
    [refused] = [letter for letter in letters if letter]
    [letter] = refused
    loser = schemes[1 - schemes.index(kept[0])]
    assert letter.reason.startswith(f"id_scheme_conflict: partner {partner!r} ({dataset}) publishes event ids under")
    assert f"scheme {kept[0]}; this message's id is under scheme {loser}," in letter.reason
    assert hub_env.query("SELECT count(*) FROM dead_letter WHERE partner = :p", p=partner) == [(1,)]
