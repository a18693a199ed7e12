"""The run-time roles' privileges (warehouse.schema.privileges): what each may do, and the GRANTs rendered."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import BigInteger, Integer

import warehouse.schema.geography_models
import warehouse.schema.indicator_models  # noqa: F401  (the geography and indicator tables on Base.metadata)
from warehouse.schema.models import Base
from warehouse.schema.privileges import API, OWNER_ONLY, VIEWS, WORKER, RolePrivileges, grant_statements, quote_ident

AUDIT = (
    "decision",
    "access_log",
    "retention_run",
    "retired_event",
    "dead_letter",
    "retraction",
    "released_figure",
    "released_digest",
    "released_again",
    "replay_run",
)
TABLES = set(Base.metadata.tables)
ROLES = {"worker": WORKER, "api": API}


def _verbs(privileges: RolePrivileges, table: str) -> set[str]:
    """The privileges on `table`, without column lists ("UPDATE (last_used_at)" -> "UPDATE")."""
    return {granted.split(" (")[0] for granted in privileges.tables.get(table, ())}


def test_every_table_is_granted_to_a_role_or_kept_by_the_owner() -> None:
    granted = set(WORKER.tables) | set(API.tables)
    assert granted <= TABLES | set(VIEWS), granted - TABLES - set(VIEWS)
    assert not TABLES & set(VIEWS)
    assert TABLES - granted == set(OWNER_ONLY) - {"alembic_version"}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("table", AUDIT)
def test_no_runtime_role_may_update_or_delete_the_audit_trail(role: str, table: str) -> None:
    assert not _verbs(ROLES[role], table) & {"UPDATE", "DELETE"}


def test_the_api_inserts_only_into_the_access_log_release_record_and_sessions_and_updates_only_use_times() -> None:
    assert {t for t in API.tables if "INSERT" in _verbs(API, t)} == {
        "access_log",
        "released_figure",
        "released_digest",
        "released_again",
        "web_session",
    }
    assert {(t, g) for t, granted in API.tables.items() for g in granted if g.startswith("UPDATE")} == {
        ("api_key", "UPDATE (last_used_at)"),
        ("web_session", "UPDATE (last_seen_at, ended_at)"),
    }
    assert not any("DELETE" in _verbs(API, t) for t in API.tables)
    assert not API.temporary and not API.functions


def test_the_worker_never_touches_api_keys_sessions_or_the_access_log() -> None:
    assert not {"api_key", "access_log", "web_session"} & set(WORKER.tables)
    assert {t for t in WORKER.tables if _verbs(WORKER, t) & {"UPDATE", "DELETE"}} == {"event"}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_may_use_the_id_sequence_of_every_table_it_inserts_into(role: str) -> None:
    privileges = ROLES[role]
    serial = {
        f"{name}_id_seq"
        for name in privileges.tables
        if "INSERT" in _verbs(privileges, name)
        and "id" in Base.metadata.tables[name].c
        and isinstance(Base.metadata.tables[name].c["id"].type, Integer | BigInteger)
    }
    assert set(privileges.sequences) == serial


def test_the_grants_render_as_sql_with_the_roles_quoted() -> None:
    statements = grant_statements("hub", "hub_worker", 'odd"api')
    assert statements[:6] == [
        'REVOKE ALL ON DATABASE "hub" FROM PUBLIC',
        'GRANT CONNECT ON DATABASE "hub" TO "hub_worker", "odd""api"',
        'GRANT TEMPORARY ON DATABASE "hub" TO "hub_worker"',
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        'GRANT USAGE ON SCHEMA public TO "hub_worker", "odd""api"',
        "REVOKE ALL ON FUNCTION hub_event_partition(date) FROM PUBLIC",
    ]
    assert 'GRANT SELECT, UPDATE (last_used_at) ON TABLE api_key TO "odd""api"' in statements
    assert 'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE event TO "hub_worker"' in statements
    assert 'GRANT USAGE ON SEQUENCE access_log_id_seq TO "odd""api"' in statements
    assert 'GRANT EXECUTE ON FUNCTION hub_event_partition(date) TO "hub_worker"' in statements
    assert len(statements) == 6 + sum(len(p.tables) + len(p.sequences) + len(p.functions) for p in ROLES.values())


def test_identifiers_are_quoted_whole() -> None:
    assert quote_ident("hub_api") == '"hub_api"'
    assert quote_ident('a"; DROP TABLE event; --') == '"a""; DROP TABLE event; --"'


def test_the_grants_documented_for_an_external_database_are_the_ones_applied() -> None:
    doc = (Path(__file__).parents[3] / "docs" / "database.md").read_text(encoding="utf-8")
    block = doc.split("<!-- grants:", 1)[1].split("```sql\n", 1)[1].split("```", 1)[0]
    assert block.strip() == ";\n".join(grant_statements("hub", "hub_worker", "hub_api")) + ";"
