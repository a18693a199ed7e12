"""`hub replay` on the real broker and database: a protocol that drops a field, then a replay, leaves no event with
that field and records new decisions naming the new version; the IG record counts what was published; a scoped
replay touches only its scope; retired events and fields retention removed stay gone; a replay beside the running
worker (and a partner publishing corrections) loses and doubles nothing; an older version never replaces a later one.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType
from sqlalchemy import text

from tests.support.aggregates import assert_aggregates_consistent, justifying_sets_before_0027
from tests.support.hub import HubEnv, Worker, client_env
from tests.support.open_data import EASTBOURNE_STREET
from warehouse.governance.retention import run_retention
from warehouse.queries.aggregates import justifying_sets
from warehouse.schema.db import libpq_url, session_scope
from warehouse.sink import DecisionRow, EventClaim, EventRow, RetractionRow, WarehouseSink, new_record_key

pytestmark = pytest.mark.integration

PACKAGED = Path(__file__).resolve().parents[2] / "sharing_protocols" / "protocols"
KEYS = {"HUB_LINKAGE_KEY_PERSON": "p" * 48, "HUB_LINKAGE_KEY_RECORD_IDS": "r" * 48}
FIELD = "last_outcome_category"
PROTOCOL = """
id: replay-police
version: {version}
title: Police records to CSP A (replay test)
status: active
valid_from: 2019-01-01
review_due: 2030-01-01
dpia_reference: TEST-DPIA
purposes: [Testing the hub]
legal_gateways: [{{ref: cda-1998-s115}}]
datasets: [police-uk-street]
retention: {{months: 12}}
data_owners: [{{id: sussex-police, name: Sussex Police, datasets: [police-uk-street]}}]
recipients: [{{id: csp-a, name: CSP A, kind: csp}}]
signatories: [{{role: SIRO, organisation: sussex-police}}]
clauses:
  - {{id: records, recipients: [csp-a], datasets: [police-uk-street], fields: [{fields}],
     spatial_precision: ward, temporal_precision: month, output: record_level,
     disclosure: {{min_cell_count: 1, round_to: 1}}}}
"""
V1 = PROTOCOL.format(version=1, fields=f"category, period, location, {FIELD}")
V2 = PROTOCOL.format(version=2, fields="category, period, location")
POLICE_ROWS = 300
FIRE_ROWS = 120
CORRECTED = 40  # rows published again with a new outcome while the replay runs
# Replays read in batches of 50, so that several are in flight (one written while the next is processed).
REPLAY_BATCHES = {"HUB_WORKER_BATCH_SIZE": "50"}


@pytest.fixture(scope="module")
def protocol_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("protocols")
    (directory / "replay-police-1.yaml").write_text(V1)
    shutil.copy(PACKAGED / "fire-incidents-to-csp.yaml", directory)
    return directory


@pytest.fixture(scope="module")
def protocol_paths(protocol_dir: Path) -> list[Path]:
    return [protocol_dir]


def _hub(hub_env: HubEnv, *args: str, worker: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **hub_env.env, **KEYS, **({**hub_env.worker_env, **REPLAY_BATCHES} if worker else {})}
    return subprocess.run(
        [sys.executable, "-m", "deploy.cli", *args], env=env, capture_output=True, text=True, timeout=600
    )


def _replay(hub_env: HubEnv, *args: str) -> subprocess.CompletedProcess[str]:
    """`hub replay` as the worker's principal (as an operator runs it next to the worker)."""
    return _hub(hub_env, "replay", *args, worker=True)


def _rows(shared_data: Path) -> tuple[list[str], list[list[str]]]:
    with (shared_data / EASTBOURNE_STREET).open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    with_ids = [row for row in rows if row[0]]  # crimes (ASB rows have no id, so no correction can name them)
    return header, with_ids[:POLICE_ROWS]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _replays(hub_env: HubEnv) -> list[tuple[Any, ...]]:
    return hub_env.query(
        "SELECT id, reason, dataset, partner, protocols, messages, released, withheld, retracted, dead_lettered, "
        "finished_at IS NOT NULL, run_by, topics FROM replay_run ORDER BY id"
    )


@pytest.fixture(scope="module")
def loaded(hub_env: HubEnv, worker: Worker, shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Worker:
    """Police rows under v1 (which releases FIELD) and generated fire incidents, loaded by the worker."""
    tmp = tmp_path_factory.mktemp("feeds")
    header, rows = _rows(shared_data)
    police = _write(tmp / "police.csv", header, rows)
    fire = tmp / "fire.csv"
    generated = _hub(hub_env, "generate", "fire-incidents", str(fire), "--rows", str(FIRE_ROWS), "--seed", "3",
                     "--district", "E07000061")  # fmt: skip
    assert generated.returncode == 0, generated.stderr
    for args in (["police-uk-street", str(police), "--partner", "sussex-police"], ["fire-incidents", str(fire)]):
        published = _hub(hub_env, "publish", *args)
        assert published.returncode == 0, published.stderr
    worker.wait_until_loaded()
    return worker


@pytest.fixture(scope="module")
def retired(loaded: Worker, hub_env: HubEnv) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
    """Retention run on three police events past their retention and on FIELD of three more: (retired, trimmed)."""
    ids = [r[0] for r in hub_env.query("SELECT event_id FROM event WHERE dataset = 'police-uk-street' ORDER BY 1")]
    gone, trimmed = set(ids[:3]), set(ids[3:6])
    with session_scope(hub_env.engine) as session:
        session.execute(
            text("UPDATE event SET retain_until = DATE '2000-01-01' WHERE event_id = ANY(:ids)"), {"ids": list(gone)}
        )
        session.execute(
            text(
                "UPDATE event SET field_retain_until = jsonb_set(field_retain_until, :path, '\"2000-01-01\"') "
                "WHERE event_id = ANY(:ids)"
            ),
            {"path": [FIELD], "ids": list(trimmed)},
        )
    with session_scope(hub_env.engine) as session:  # the writers' lock first (warehouse/writers.py)
        run_retention(session, datetime.now(UTC).date())
    return gone, trimmed


def test_the_worker_loaded_the_field_under_the_first_version(loaded: Worker, hub_env: HubEnv) -> None:
    with_field = hub_env.query(f"SELECT count(*) FROM event WHERE attributes ? '{FIELD}'")[0][0]
    assert with_field == POLICE_ROWS


@pytest.fixture(scope="module")
def fire_replay(retired: tuple[set[uuid.UUID], set[uuid.UUID]], hub_env: HubEnv) -> subprocess.CompletedProcess[str]:
    return _replay(hub_env, "--dataset", "fire-incidents", "--reason", "scope test: fire incidents only")


def test_a_replay_scoped_to_one_dataset_touches_only_it(
    fire_replay: subprocess.CompletedProcess[str], hub_env: HubEnv
) -> None:
    assert fire_replay.returncode == 0, fire_replay.stderr
    [run] = _replays(hub_env)
    assert run[1:4] == ("scope test: fire incidents only", "fire-incidents", None)
    assert run[5] == FIRE_ROWS and run[10] is True
    assert run[12] == [hub_env.kafka.partner_topic("fire-incidents", "esfrs")]
    decided = hub_env.query("SELECT dataset, count(*) FROM decision WHERE replay_id = :r GROUP BY 1", r=run[0])
    assert decided == [("fire-incidents", FIRE_ROWS)]
    assert f"{FIRE_ROWS} messages" in fire_replay.stderr and "events/s" in fire_replay.stderr


def test_a_replay_without_a_reason_is_refused_and_records_nothing(fire_replay: Any, hub_env: HubEnv) -> None:
    refused = _replay(hub_env, "--reason", "  ")
    assert refused.returncode == 2 and "--reason" in refused.stderr
    assert len(_replays(hub_env)) == 1


@pytest.fixture(scope="module")
def same_protocol_replay(fire_replay: Any, hub_env: HubEnv) -> subprocess.CompletedProcess[str]:
    """A replay of the police topic under the same protocol: every decision is identical to the worker's."""
    return _replay(hub_env, "--partner", "sussex-police", "--reason", "re-check under replay-police@1")


def test_a_replay_records_its_decisions_even_where_the_worker_made_identical_ones(
    same_protocol_replay: subprocess.CompletedProcess[str], hub_env: HubEnv
) -> None:
    assert same_protocol_replay.returncode == 0, same_protocol_replay.stderr
    run = _replays(hub_env)[-1]
    assert run[3] == "sussex-police" and run[5:10] == (POLICE_ROWS, POLICE_ROWS, 0, 0, 0)
    worker_made = hub_env.query("SELECT count(*) FROM decision WHERE replay_id IS NULL AND partner = 'sussex-police'")[
        0
    ][0]
    replay_made = hub_env.query("SELECT count(*) FROM decision WHERE replay_id = :r", r=run[0])[0][0]
    assert worker_made == replay_made == POLICE_ROWS


def test_retired_events_stay_retired_and_removed_fields_stay_removed(
    same_protocol_replay: Any, retired: tuple[set[uuid.UUID], set[uuid.UUID]], hub_env: HubEnv
) -> None:
    gone, trimmed = retired
    assert not hub_env.query("SELECT 1 FROM event WHERE event_id = ANY(:ids)", ids=list(gone))
    fields = hub_env.query(
        "SELECT attributes ? :f, fields_retired FROM event WHERE event_id = ANY(:ids)", f=FIELD, ids=list(trimmed)
    )
    assert fields == [(False, [FIELD])] * 3


@pytest.fixture(scope="module")
def new_version_replay(
    same_protocol_replay: Any,
    loaded: Worker,
    hub_env: HubEnv,
    protocol_dir: Path,
    shared_data: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[subprocess.CompletedProcess[str]]:
    """v2 drops FIELD; the worker restarted on it; a replay of every topic while a partner publishes corrections of
    CORRECTED events and the worker loads them."""
    loaded.stop()
    (protocol_dir / "replay-police-2.yaml").write_text(V2)
    hub_env.reload_protocols()
    tmp = tmp_path_factory.mktemp("v2")
    running = Worker(hub_env, tmp / "worker.log")
    header, rows = _rows(shared_data)
    outcome = header.index("Last outcome category")
    changed = {row[outcome]: "Court result unavailable" for row in rows} | {
        "Court result unavailable": "Under investigation"
    }
    corrections = [[*row[:outcome], changed[row[outcome]], *row[outcome + 1 :]] for row in rows[-CORRECTED:]]
    corrected = _write(tmp / "corrections.csv", header, corrections)
    env = {**os.environ, **hub_env.env, **KEYS}
    cli = [sys.executable, "-m", "deploy.cli"]
    replaying = subprocess.Popen(
        [*cli, "replay", "--reason", "protocol replay-police@2 drops last_outcome_category"],
        env={**env, **hub_env.worker_env, **REPLAY_BATCHES},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    published = subprocess.run(
        [*cli, "publish", "police-uk-street", str(corrected), "--partner", "sussex-police"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out, err = replaying.communicate(timeout=600)
    assert published.returncode == 0, published.stderr
    running.wait_until_loaded()
    yield subprocess.CompletedProcess(replaying.args, replaying.returncode, out, err)
    running.stop()


def test_after_the_new_version_and_a_replay_no_event_has_the_field(
    new_version_replay: subprocess.CompletedProcess[str], hub_env: HubEnv
) -> None:
    assert new_version_replay.returncode == 0, new_version_replay.stderr
    assert hub_env.query(f"SELECT count(*) FROM event WHERE attributes ? '{FIELD}'") == [(0,)]
    protocols = hub_env.query(
        "SELECT fields_retired = '{}', protocols FROM event WHERE dataset = 'police-uk-street' GROUP BY 1, 2"
    )
    # The events retention trimmed are never rewritten (that could bring a removed field back): they keep the clause
    # they were loaded under, and already lack the field.
    assert sorted(protocols) == [(False, ["replay-police@1#records"]), (True, ["replay-police@2#records"])]


def test_the_replay_records_new_decisions_naming_the_new_version_with_the_field_dropped(
    new_version_replay: Any, hub_env: HubEnv
) -> None:
    run = _replays(hub_env)[-1]
    rows = hub_env.query(
        "SELECT protocols, fields_dropped, count(*) FROM decision "
        "WHERE replay_id = :r AND dataset = 'police-uk-street' "
        "GROUP BY 1, 2",
        r=run[0],
    )
    police_messages = run[5] - FIRE_ROWS
    assert POLICE_ROWS <= police_messages <= POLICE_ROWS + CORRECTED  # corrections published before its start too
    [(protocols, dropped, count)] = rows
    assert (protocols, count) == (["replay-police@2#records"], police_messages) and FIELD in dropped
    before = hub_env.query(
        "SELECT DISTINCT protocols, :f = ANY(fields_dropped) FROM decision "
        "WHERE replay_id IS NULL AND dataset = 'police-uk-street' AND 'replay-police@1#records' = ANY(protocols)",
        f=FIELD,
    )
    assert before == [(["replay-police@1#records"], False)]
    assert "replay-police@2" in run[4] and "replay-police@1" not in run[4]


def test_the_replay_record_counts_what_was_published(new_version_replay: Any, hub_env: HubEnv) -> None:
    run_id, reason, dataset, partner, _, messages, released, withheld, retracted, dead, finished, by, topics = _replays(
        hub_env
    )[-1]
    assert (reason, dataset, partner, finished) == ("protocol replay-police@2 drops last_outcome_category", None,
                                                    None, True)  # fmt: skip
    assert by and len(topics) == 2
    published = hub_env.query(
        "SELECT (SELECT count(*) FROM decision WHERE replay_id IS NULL) + (SELECT count(*) FROM dead_letter)"
    )[0][0]  # every message the worker has consumed, corrections included
    assert released + withheld + retracted + dead == messages <= published
    assert messages >= POLICE_ROWS + FIRE_ROWS
    decided = hub_env.query("SELECT count(*) FROM decision WHERE replay_id = :r", r=run_id)[0][0]
    assert decided == released + withheld


def test_a_replay_beside_the_worker_loses_and_doubles_nothing(
    new_version_replay: Any, retired: tuple[set[uuid.UUID], set[uuid.UUID]], hub_env: HubEnv
) -> None:
    gone, _ = retired
    stored = hub_env.query("SELECT dataset, count(*), count(DISTINCT event_id) FROM event GROUP BY 1 ORDER BY 1")
    fire_released = hub_env.query(
        "SELECT count(DISTINCT event_id) FROM decision WHERE dataset = 'fire-incidents' AND replay_id IS NULL "
        "AND outcome = 'released'"
    )[0][0]
    assert stored == [
        ("fire-incidents", fire_released, fire_released),
        ("police-uk-street", POLICE_ROWS - len(gone), POLICE_ROWS - len(gone)),
    ]
    # Every stored event is its latest version: the one of the worker's last decision on it (retention has frozen
    # the events it trimmed: never rewritten).
    stale = hub_env.query(
        "SELECT e.event_id FROM event e JOIN LATERAL (SELECT content_hash FROM decision d "
        "WHERE d.event_id = e.event_id "
        "AND d.replay_id IS NULL ORDER BY d.id DESC LIMIT 1) last ON true "
        "WHERE last.content_hash <> e.content_hash AND e.fields_retired = '{}'"
    )
    assert stale == []
    corrected = hub_env.query(
        "SELECT count(DISTINCT event_id) FROM decision WHERE replay_id IS NULL AND partner = 'sussex-police' "
        "GROUP BY event_id HAVING count(DISTINCT content_hash) > 1"
    )
    assert len(corrected) == CORRECTED


def test_the_kept_aggregates_and_clause_sets_equal_the_events_after_the_loads_retention_and_replay(
    new_version_replay: Any, retired: tuple[set[uuid.UUID], set[uuid.UUID]], hub_env: HubEnv
) -> None:
    """The count triggers kept `event_count`, `event_count_district` and `event_clause_set` through the worker's
    loads and corrections, retention and the replay that moved the events to v2's clause; the events retention
    trimmed keep v1's, so both clause sets justify, as the query over the district aggregate says too."""
    with psycopg.connect(libpq_url(hub_env.database_url), autocommit=True) as conn:
        assert_aggregates_consistent(conn, "the loads, corrections, retention and the replay")
    refs = ("replay-police@1#records", "replay-police@2#records")
    with session_scope(hub_env.engine) as session:
        found = sorted(justifying_sets(session, "police-uk-street", refs))
        assert found == sorted(justifying_sets_before_0027(session, "police-uk-street", refs))
        assert found == [(refs[0],), (refs[1],)]


def _row(event_id: uuid.UUID, topic: str, offset: int, content: str) -> EventRow:
    return EventRow(
        event_id=event_id,
        dataset="police-uk-street",
        partner="sussex-police",
        schema_version=1,
        period_start=date(2019, 1, 1),
        period_end=date(2019, 1, 31),
        period_precision="month",
        period_month=date(2019, 1, 1),
        category="burglary",
        attributes_json="{}",
        x=None,
        y=None,
        location_status="location_not_released",
        ward_code=None,
        ward_vintage=None,
        content_hash=content,
        source_topic=topic,
        source_partition=0,
        source_offset=offset,
        record_key=new_record_key(),
        protocols=("replay-police@2#records",),
        retain_until=date(2099, 1, 1),
    )


def _decision(row: EventRow) -> DecisionRow:
    return DecisionRow(row.event_id, row.content_hash, row.dataset, row.partner, row.period_month, "withheld",
                       "test", "test", (), (), (), None)  # fmt: skip


def test_an_older_version_never_replaces_or_withdraws_a_later_one(new_version_replay: Any, hub_env: HubEnv) -> None:
    topic = hub_env.kafka.partner_topic("police-uk-street", "sussex-police")
    event_id = uuid.uuid4()
    sink = WarehouseSink(hub_env.worker_url)
    later, older = _row(event_id, topic, 10_000, "later"), _row(event_id, topic, 9_000, "older")
    claim = EventClaim(event_id, "police-uk-street", "sussex-police", topic, 0, 9_000)
    try:
        sink.write([later], [], claims=[claim])
        sink.write([older], [], claims=[claim])  # a replay re-reading the older version
        assert hub_env.query("SELECT content_hash FROM event WHERE event_id = :e", e=event_id) == [("later",)]
        withheld = _decision(older)  # the older version now withheld: the later stored one stays
        sink.write([], [], [withheld], [claim.key], claims=[claim])
        assert hub_env.query("SELECT content_hash FROM event WHERE event_id = :e", e=event_id) == [("later",)]
        tombstone = RetractionRow(*claim.key, topic, 0, 9_500, final=True)  # an older retraction, read again
        sink.write([], [], [], [claim.key], [tombstone])
        assert hub_env.query("SELECT content_hash FROM event WHERE event_id = :e", e=event_id) == [("later",)]
        assert hub_env.query("SELECT removed FROM retraction WHERE event_id = :e", e=event_id) == [(False,)]
        newer = _decision(_row(event_id, topic, 10_001, "newer"))
        sink.write([], [], [newer], [claim.key], claims=[EventClaim(*claim.key, topic, 0, 10_001)])
        assert hub_env.query("SELECT content_hash FROM event WHERE event_id = :e", e=event_id) == []
    finally:
        sink.close()


def test_the_hub_s_topics_keep_messages_for_the_configured_retention(loaded: Worker, hub_env: HubEnv) -> None:
    topic = hub_env.kafka.partner_topic("police-uk-street", "sussex-police")
    admin = KafkaAdminClient(**hub_env.admin.kafka_python(), client_id="tests-replay")
    try:
        described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        admin.close()
    retention = described["topic"][topic]["retention.ms"]
    assert (retention["value"], retention["config_source"]) == (str(365 * 24 * 3600 * 1000), "DYNAMIC_TOPIC_CONFIG")


def test_a_partner_cannot_replay_and_nothing_is_decided_in_its_name(loaded: Worker, hub_env: HubEnv) -> None:
    # The publisher's own principal: it may write and describe its topic, which holds events, but read nothing.
    partner = hub_env.partner("sussex-police", ["police-uk-street"])
    env = {**os.environ, **hub_env.env, **client_env(partner)}
    before = hub_env.query("SELECT count(*) FROM decision")[0][0]
    tried = subprocess.run(
        [sys.executable, "-m", "deploy.cli", "replay", "--partner", "sussex-police", "--reason", "not mine to run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert tried.returncode != 0
    assert "Traceback" not in tried.stderr and partner.password.get_secret_value() not in tried.stderr
    assert hub_env.query("SELECT count(*) FROM decision")[0][0] == before
    assert (
        hub_env.query("SELECT count(*) FROM replay_run WHERE finished_at IS NOT NULL AND reason = 'not mine to run'")[
            0
        ][0]
        == 0
    )
