"""The warehouse's database roles: the worker and the API may do what they need and nothing else, no run-time role
is a superuser, and nobody reaches the embedded cluster without a password.

Each refusal is PostgreSQL's own (`permission denied`, InsufficientPrivilege), not the audit tables' append-only
triggers, which would also refuse the owner. These checks need the run-time roles: the embedded cluster has them,
and an external database has them when HUB_DATABASE_WORKER_URL and HUB_DATABASE_API_URL are set.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from deploy.local.postgres import PostgresServer
from deploy.settings import LocalSettings
from sharing_protocols.release_record import ReleasedAnswer, ReleasedFigure
from tests.support.hub import HubEnv
from warehouse.governance.access_log import write_access
from warehouse.governance.keys import create_key, verify_key
from warehouse.governance.web_sessions import end_session, look_up_session, start_session, touch_session
from warehouse.schema.db import libpq_url, session_scope, warehouse_engine
from warehouse.schema.privileges import grant_runtime_roles
from warehouse.sink import DeadLetterRow, DecisionRow, EventRow, RetractionRow, WarehouseSink, new_record_key

AUDIT_TABLES = ("access_log", "decision", "retention_run", "released_figure", "released_digest", "released_again")
A_MONTH = date(1999, 1, 1)  # a month no test loads: its partition does not exist until the worker's sink makes it


@pytest.fixture(scope="module", autouse=True)
def runtime_roles(hub_env: HubEnv) -> None:
    if len({hub_env.database_url, hub_env.worker_url, hub_env.api_url}) != 3:
        pytest.fail("no run-time roles: set HUB_DATABASE_WORKER_URL and HUB_DATABASE_API_URL for an external database")


def _user(url: str) -> str:
    return str(urlsplit(url).username)


def _refused(url: str, statement: str) -> str:
    """PostgreSQL's refusal of `statement` run as the role of `url`."""
    with psycopg.connect(libpq_url(url)) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
        conn.execute(statement)
    return str(refused.value)


def _without_password(url: str) -> str:
    """The same role and database, with no password file (so libpq has no password to send)."""
    parts = urlsplit(libpq_url(url))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "passfile=/dev/null", ""))


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO event (event_id, period_month) VALUES (gen_random_uuid(), DATE '2019-01-01')",
        "UPDATE event SET category = 'burglary'",
        "DELETE FROM event",
        "INSERT INTO decision (event_id) VALUES (gen_random_uuid())",
        "INSERT INTO api_key (key_id) VALUES ('forged')",
        "DELETE FROM api_key",
        "UPDATE event_count_district SET events = 0",
        "DELETE FROM event_count_ward_total",
        "DELETE FROM event_clause_set",
    ],
    ids=[
        "insert-event",
        "update-event",
        "delete-event",
        "insert-decision",
        "insert-api-key",
        "delete-api-key",
        "write-district-counts",
        "write-ward-totals",
        "write-clause-sets",
    ],
)
def test_the_api_role_cannot_write_events_decisions_or_keys(hub_env: HubEnv, statement: str) -> None:
    assert "permission denied" in _refused(hub_env.api_url, statement)


@pytest.mark.parametrize("table", AUDIT_TABLES)
@pytest.mark.parametrize("verb", ["UPDATE {0} SET {1} = {1}", "DELETE FROM {0}"], ids=["update", "delete"])
def test_the_api_role_cannot_update_or_delete_the_audit_tables(hub_env: HubEnv, table: str, verb: str) -> None:
    column = "org" if table in ("released_digest", "released_again") else "id"  # they have no id
    assert f"permission denied for table {table}" in _refused(hub_env.api_url, verb.format(table, column))


def test_the_api_role_appends_to_the_access_log_and_the_release_record_in_one_go(hub_env: HubEnv) -> None:
    marker = f"/roles-test/{uuid.uuid4().hex}"
    figure = ReleasedFigure(
        "marac-cases", "lad", frozenset({"E07000061"}), None, A_MONTH, A_MONTH, "1999-01", None, 8, 5, ("p#1",)
    )
    engine = warehouse_engine(hub_env.api_warehouse)
    try:
        for _ in range(2):  # the second time as the figures of the first access again
            write_access(
                engine, "roles-test", "analyst", marker, {"q": "1"}, ["p#1"], 3, 200, ReleasedAnswer.of([figure])
            )
    finally:
        engine.dispose()
    assert (
        hub_env.query("SELECT org, rows, status FROM access_log WHERE endpoint = :e", e=marker)
        == [("roles-test", 3, 200)] * 2
    )
    recorded = hub_env.query(
        "SELECT r.org, r.dataset, r.areas, r.categories, r.value, r.min_cell_count FROM released_figure r "
        "JOIN access_log a ON a.id = r.access_id WHERE a.endpoint = :e",
        e=marker,
    )
    assert recorded == [("roles-test", "marac-cases", ["E07000061"], None, None, 8)]
    again = hub_env.query(
        "SELECT count(*) FROM released_again r JOIN access_log a ON a.id = r.access_id WHERE a.endpoint = :e", e=marker
    )
    assert again == [(1,)]


def test_the_api_role_records_when_a_key_was_used_and_changes_nothing_else_of_it(hub_env: HubEnv) -> None:
    with session_scope(hub_env.engine) as session:
        token = create_key(session, "roles-test", "analyst")
    key_id = token.split("_")[1]
    with session_scope(hub_env.api_url) as session:
        owner = verify_key(session, token)
    assert owner is not None and owner.key_id == key_id
    assert hub_env.query("SELECT last_used_at IS NOT NULL FROM api_key WHERE key_id = :k", k=key_id) == [(True,)]
    for column in ("revoked_at = now()", "expires_at = NULL", "role = 'ig_lead'", "secret_sha256 = 'x'"):
        refused = _refused(hub_env.api_url, f"UPDATE api_key SET {column} WHERE key_id = '{key_id}'")
        assert "permission denied for table api_key" in refused


def test_the_api_role_starts_touches_and_ends_web_sessions_and_changes_nothing_else_of_them(hub_env: HubEnv) -> None:
    with session_scope(hub_env.engine) as session:
        key = create_key(session, "roles-test", "analyst")
    with session_scope(hub_env.api_url) as session:
        owner = verify_key(session, key)
        assert owner is not None
        token = start_session(session, owner, timedelta(hours=1))
    with session_scope(hub_env.api_url) as session:
        assert look_up_session(session, token, timedelta(minutes=5)).owner == owner
        touch_session(session, token)
        assert end_session(session, token)
    for column in ("role = 'ig_lead'", "org = 'hub'", "key_id = key_id", "expires_at = now() + interval '1 year'"):
        assert "permission denied for table web_session" in _refused(
            hub_env.api_url, f"UPDATE web_session SET {column}"
        )
    assert "permission denied for table web_session" in _refused(hub_env.api_url, "DELETE FROM web_session")


def test_the_api_role_cannot_create_tables_even_temporary_ones(hub_env: HubEnv) -> None:
    assert "permission denied for schema public" in _refused(hub_env.api_url, "CREATE TABLE planted (x int)")
    assert "permission denied to create temporary tables" in _refused(
        hub_env.api_url, "CREATE TEMP TABLE planted (x int)"
    )


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM api_key",
        "UPDATE api_key SET last_used_at = now()",
        "INSERT INTO api_key (key_id) VALUES ('forged')",
        "SELECT * FROM web_session",
        "SELECT * FROM access_log",
        "INSERT INTO access_log (org) VALUES ('forged')",
        "DELETE FROM decision",
        "UPDATE decision SET outcome = 'released'",
        "DELETE FROM dead_letter",
        "DELETE FROM retraction",
        "DELETE FROM retention_run",
        "UPDATE event_count SET events = 0",
        "UPDATE event_count_district SET events = 0",
        "UPDATE event_count_ward_total SET events = 0",
        "UPDATE event_clause_set SET events = 0",
        "CREATE TABLE planted (x int)",
    ],
    ids=[
        "read-keys",
        "update-keys",
        "insert-keys",
        "read-sessions",
        "read-access-log",
        "insert-access-log",
        "delete-decision",
        "update-decision",
        "delete-dead-letter",
        "delete-retraction",
        "delete-retention-log",
        "write-counts",
        "write-district-counts",
        "write-ward-totals",
        "write-clause-sets",
        "create-table",
    ],
)
def test_the_worker_role_cannot_touch_keys_the_access_log_or_the_audit_trail(hub_env: HubEnv, statement: str) -> None:
    assert "permission denied" in _refused(hub_env.worker_url, statement)


def test_the_worker_role_loads_a_batch_making_a_new_months_partition_owned_by_the_owner(hub_env: HubEnv) -> None:
    event_id = uuid.uuid4()
    event = EventRow(
        event_id, "police-uk-street", "roles-test", 1, A_MONTH, date(1999, 1, 31), "month", A_MONTH, "burglary",
        "{}", None, None, "no_location", None, None, "hash-1", "roles-test-topic", 0, 1, new_record_key(),
    )  # fmt: skip
    decision = DecisionRow(
        event_id, "hash-1", "police-uk-street", "roles-test", A_MONTH, "released", None, None, ("p#1",), (), (), None
    )
    dead = DeadLetterRow("roles-test-topic", 0, 2, None, None, "roles-test", "invalid_json")
    retraction = RetractionRow(uuid.uuid4(), "police-uk-street", "roles-test", "roles-test-topic", 0, 3, True)
    sink = WarehouseSink(hub_env.worker_url)
    try:
        sink.write([event], [dead], [decision], retractions=[retraction])
    finally:
        sink.close()
    assert hub_env.query("SELECT count(*) FROM event WHERE event_id = :e", e=event_id) == [(1,)]
    assert hub_env.query("SELECT sum(events) FROM event_count WHERE period_month = :m", m=A_MONTH) == [(1,)]
    assert hub_env.query("SELECT sum(events) FROM event_count_district WHERE period_month = :m", m=A_MONTH) == [(1,)]
    assert hub_env.query("SELECT sum(events) FROM event_count_ward_total WHERE period_month = :m", m=A_MONTH) == [(1,)]
    assert hub_env.query("SELECT dataset, protocols, events FROM event_clause_set") == [("police-uk-street", [], 1)]
    assert hub_env.query("SELECT count(*) FROM decision WHERE event_id = :e", e=event_id) == [(1,)]
    assert hub_env.query("SELECT count(*) FROM dead_letter WHERE partner = 'roles-test'") == [(1,)]
    assert hub_env.query("SELECT count(*) FROM retraction WHERE partner = 'roles-test'") == [(1,)]
    owner = hub_env.query("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'event_y1999m01'")
    assert owner == [(_user(hub_env.database_url),)]


def test_granting_again_takes_away_what_a_role_was_given_besides(hub_env: HubEnv) -> None:
    api = _user(hub_env.api_url)
    with psycopg.connect(libpq_url(hub_env.database_url), autocommit=True) as conn:
        conn.execute(sql.SQL("GRANT DELETE ON access_log, event TO {}").format(sql.Identifier(api)))
    grant_runtime_roles(hub_env.database_url, _user(hub_env.worker_url), api)
    assert "permission denied for table access_log" in _refused(hub_env.api_url, "DELETE FROM access_log")
    assert "permission denied for table event" in _refused(hub_env.api_url, "DELETE FROM event")


def test_no_role_of_the_hub_is_a_superuser_or_may_create_databases_or_roles(hub_env: HubEnv) -> None:
    for url in (hub_env.database_url, hub_env.worker_url, hub_env.api_url):
        with psycopg.connect(libpq_url(url)) as conn:
            row = conn.execute(
                "SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolbypassrls FROM pg_roles "
                "WHERE rolname = current_user"
            ).fetchone()
        assert row == (_user(url), False, False, False, False)


@pytest.mark.parametrize("role", ["owner", "worker", "api"])
def test_a_connection_without_the_password_is_refused(hub_env: HubEnv, role: str) -> None:
    url = {"owner": hub_env.database_url, "worker": hub_env.worker_url, "api": hub_env.api_url}[role]
    with pytest.raises(psycopg.OperationalError, match="no password supplied"):
        psycopg.connect(_without_password(url), connect_timeout=10)


@pytest.mark.parametrize("role", ["owner", "worker", "api"])
def test_a_connection_with_a_wrong_password_is_refused(hub_env: HubEnv, role: str) -> None:
    url = {"owner": hub_env.database_url, "worker": hub_env.worker_url, "api": hub_env.api_url}[role]
    with pytest.raises(psycopg.OperationalError, match=f'password authentication failed for user "{_user(url)}"'):
        psycopg.connect(_without_password(url), password="not-the-password", connect_timeout=10)


def test_the_superuser_cannot_log_in_without_its_password_over_tcp_or_the_socket() -> None:
    local = LocalSettings()
    url = _without_password(local.superuser_url("postgres"))
    with pytest.raises(psycopg.OperationalError, match="no password supplied"):
        psycopg.connect(url, connect_timeout=10)
    with pytest.raises(psycopg.OperationalError, match=f'password authentication failed for user "{local.pg_user}"'):
        psycopg.connect(url, password="hub", connect_timeout=10)
    socket = PostgresServer(local).socket_dir
    with pytest.raises(psycopg.OperationalError, match="no password supplied"):
        psycopg.connect(host=socket, port=local.pg_port, user=local.pg_user, dbname="postgres", passfile="/dev/null")
