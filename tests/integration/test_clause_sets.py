"""`event_clause_set` (migration 0027): a dataset's clause sets by the area codes a scope looks at, kept by the count
triggers; `justifying_sets` reads it and answers as the query it replaced (over `event_count_district`) did.

Generated events (benchmarks/generated_events.py) of twelve months of 2023 in the Sussex and Essex wards, written
straight into `event` with SQL; the migration's own test migrates a database of its own from 0026.
"""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from benchmarks.generated_events import EventGenerator, forces_wards
from deploy import local
from tests.support.aggregates import (
    DATASETS,
    RECORDS,
    STREET,
    assert_aggregates_consistent,
    assert_downgrade_round_trip,
    count_function_definitions,
    justifying_sets_before_0027,
)
from tests.support.hub import HubEnv, Services
from tests.support.reference_data import ALL_LOOKUPS, LOOKUPS_VINTAGE, load_reference
from warehouse.queries.aggregates import justifying_sets
from warehouse.queries.scope import ScopeFilter
from warehouse.schema import migrate
from warehouse.schema.db import libpq_url, session_scope

pytestmark = pytest.mark.integration

EVENTS = 3000
EASTBOURNE, EASTBOURNE_CSP, EAST_SUSSEX, ESSEX_POLICE = "E07000061", "E22000295", "E10000011", "E23000028"
# Scopes as the API builds them (api.grants.scope_filters): a scoped clause counts only inside its areas.
SCOPES: dict[str, tuple[ScopeFilter, ...]] = {
    "unscoped": (),
    "district": (ScopeFilter(STREET[:1], "district", (EASTBOURNE,)),),
    "csp": (ScopeFilter(STREET[:1], "csp", (EASTBOURNE_CSP,)),),
    "county": (ScopeFilter(STREET[:1], "county", (EAST_SUSSEX,)),),
    "force, both street clauses": (ScopeFilter(STREET, "pfa", (ESSEX_POLICE,)),),
    "two scopes": (
        ScopeFilter(STREET[:1], "district", (EASTBOURNE,)),
        ScopeFilter(STREET[1:], "county", (EAST_SUSSEX,)),
    ),
    "a scope holding no event": (ScopeFilter(STREET[:1], "district", ("E07999999",)),),
}


def _generator(url: str) -> EventGenerator:
    wards = forces_wards(url, LOOKUPS_VINTAGE, ("E23000033", ESSEX_POLICE))
    return EventGenerator(tuple(wards), DATASETS, date(2023, 1, 1), 12, seed=16)


@pytest.fixture(scope="module")
def loaded(hub_env: HubEnv, shared_data: Path) -> str:
    """The module's warehouse with the lookups and EVENTS generated events of 2023, analysed."""
    url = hub_env.database_url
    load_reference(url, lookups=ALL_LOOKUPS, data=shared_data)
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        _generator(url).write(conn, EVENTS, chunk=1000)
        conn.execute("ANALYZE event_clause_set")
    return url


def _sets(found: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    return sorted(found)


def _same_as_before(session: Session, refs: tuple[str, ...], scopes: tuple[ScopeFilter, ...]) -> None:
    for mix in DATASETS:
        expected = _sets(justifying_sets_before_0027(session, mix.dataset, refs, scopes))
        assert _sets(justifying_sets(session, mix.dataset, refs, scopes)) == expected, mix.dataset


@pytest.mark.parametrize("case", SCOPES)
def test_justifying_sets_answer_as_the_query_over_the_district_aggregate_did(loaded: str, case: str) -> None:
    with session_scope(loaded) as session:
        _same_as_before(session, STREET + RECORDS, SCOPES[case])
        _same_as_before(session, STREET[:1], SCOPES[case])


def test_a_scoped_clause_justifies_only_inside_its_scope(loaded: str) -> None:
    """Independent of the old query: street events carry both street clauses; under a CSP scope on the first, the
    events outside the CSP are justified by the second alone; under a scope holding no event, never by the first."""
    with session_scope(loaded) as session:
        assert _sets(justifying_sets(session, "police-uk-street", STREET, SCOPES["csp"])) == [STREET, STREET[1:]]
        assert justifying_sets(session, "police-uk-street", STREET, SCOPES["a scope holding no event"]) == [STREET[1:]]
        assert justifying_sets(session, "police-uk-street", RECORDS) == []
        assert justifying_sets(session, "police-records", RECORDS) == [RECORDS]


def test_justifying_sets_read_only_the_clause_set_table_a_few_rows(loaded: str) -> None:
    """The statement `justifying_sets` runs, explained: it reads `event_clause_set` alone; the table holds a row per
    dataset, clause set and district (with its CSP, county, force), and one for the unlocated events."""
    statements: list[tuple[str, Any]] = []
    with session_scope(loaded) as session:
        connection = session.connection()

        def seen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
            statements.append((statement, parameters))

        event.listen(connection, "before_cursor_execute", seen)
        justifying_sets(session, "police-uk-street", STREET, SCOPES["two scopes"])
        event.remove(connection, "before_cursor_execute", seen)
        [(statement, parameters)] = statements
        driver = connection.connection.driver_connection
        assert driver is not None
        cursor = driver.cursor()
        cursor.execute(f"EXPLAIN (FORMAT JSON) {statement}", parameters)
        plan = cursor.fetchone()[0][0]["Plan"]
        rows = session.execute(
            text(
                "SELECT count(*), count(DISTINCT district_code) FROM event_clause_set "
                "WHERE dataset = 'police-uk-street'"
            )
        ).one()

    def relations(node: dict[str, Any]) -> set[str]:
        found = {str(node["Relation Name"])} if "Relation Name" in node else set()
        return found.union(*(relations(child) for child in node.get("Plans", [])))

    assert relations(plan) == {"event_clause_set"}
    districts = rows[1]
    assert districts > 10 and rows[0] == districts + 1, "one clause set: a row per district, and the unlocated"


def test_a_clause_set_whose_events_are_all_gone_justifies_nothing(loaded: str) -> None:
    """Events given a clause set of their own, then deleted: the set justifies while they are there, then not; its
    rows stay, counted down to 0."""
    extra = "extra-protocol@1#only-here"
    refs = (*RECORDS, extra)
    with psycopg.connect(libpq_url(loaded), autocommit=True) as conn:
        chosen = [
            row[0]
            for row in conn.execute(
                "SELECT event_id FROM event WHERE dataset = 'police-records' AND location_status = 'located' "
                "ORDER BY event_id LIMIT 30"
            )
        ]
        conn.execute(
            "UPDATE event SET protocols = array_append(protocols, %s::text) WHERE event_id = ANY(%s)", (extra, chosen)
        )
        assert_aggregates_consistent(conn, "a new clause set")
        districts = conn.execute(
            "SELECT count(DISTINCT district_code) FROM event WHERE %s = ANY(protocols)", (extra,)
        ).fetchone()
        with session_scope(loaded) as session:
            assert _sets(justifying_sets(session, "police-records", refs)) == [(extra, *RECORDS), RECORDS]
            _same_as_before(session, refs, ())
        conn.execute("DELETE FROM event WHERE event_id = ANY(%s)", (chosen,))
        assert_aggregates_consistent(conn, "deleting every event of that clause set")
        with session_scope(loaded) as session:
            assert justifying_sets(session, "police-records", refs) == [RECORDS]
            _same_as_before(session, refs, ())
        zero = conn.execute("SELECT count(*) FROM event_clause_set WHERE %s = ANY(protocols) AND events = 0", (extra,))
        assert zero.fetchone() == districts


def test_the_migration_fills_the_table_and_its_downgrade_restores_the_functions_before_it(
    services: Services, shared_data: Path
) -> None:
    """A database at 0026 with events: 0027 fills `event_clause_set` from them and its triggers keep it; the
    downgrade puts back 0026's count functions exactly, which keep counting; upgrading again fills it anew."""
    name = f"hub_test_{uuid.uuid4().hex[:10]}"
    url = local.create_database(name, services.database_url)
    try:
        migrate.upgrade(url, "0026")
        load_reference(url, lookups=ALL_LOOKUPS, data=shared_data)
        generator = _generator(url)
        before = count_function_definitions(url)
        assert len(before) == 3
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            generator.write(conn, 1500, chunk=1000)
        migrate.upgrade(url, "0027")
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            assert_aggregates_consistent(conn, "the migration's backfill")
            generator.write(conn, 500, start=1500)
            conn.execute("DELETE FROM event WHERE event_id IN (SELECT event_id FROM event ORDER BY event_id LIMIT 100)")
            assert_aggregates_consistent(conn, "inserts and deletes after the migration")
        with session_scope(url) as session:
            _same_as_before(session, STREET + RECORDS, SCOPES["two scopes"])
        assert_downgrade_round_trip(
            url, "0027", "event_clause_set", before, lambda conn: generator.write(conn, 500, start=2000)
        )
    finally:
        local.drop_database(name, services.database_url)
