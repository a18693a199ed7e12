"""Migration 0031: `event_count_ward_total` (`event_count` without the category) is filled from the events already
counted, kept by the count triggers through inserts, corrections and deletes, and its downgrade puts back 0030's
count functions exactly.

Generated events (benchmarks/generated_events.py) of twelve months of 2023 in the Sussex and Essex wards, written
straight into `event` with SQL, into a database of the test's own migrated from 0030.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date
from pathlib import Path

import psycopg
import pytest

from benchmarks.generated_events import EventGenerator, forces_wards
from deploy import local
from tests.support.aggregates import (
    DATASETS,
    STREET,
    assert_aggregates_consistent,
    assert_downgrade_round_trip,
    count_function_definitions,
    kept_and_computed,
)
from tests.support.hub import Services
from tests.support.reference_data import ALL_LOOKUPS, LOOKUPS_VINTAGE, load_reference
from warehouse.queries.aggregates import CountQuery, Level, aggregate_table, count_cells
from warehouse.schema import migrate
from warehouse.schema.db import libpq_url, session_scope

pytestmark = pytest.mark.integration

CSP_QUERY = CountQuery(
    ("police-uk-street",),
    Level.ward,
    date(2023, 1, 1),
    date(2023, 12, 1),
    STREET,
    areas=("E22000295",),
    area_level=Level.csp,
)


def test_the_migration_fills_the_table_the_triggers_keep_it_and_its_downgrade_restores_the_functions(
    services: Services, shared_data: Path
) -> None:
    name = f"hub_test_{uuid.uuid4().hex[:10]}"
    url = local.create_database(name, services.database_url)
    try:
        migrate.upgrade(url, "0030")
        load_reference(url, lookups=ALL_LOOKUPS, data=shared_data)
        wards = forces_wards(url, LOOKUPS_VINTAGE, ("E23000033", "E23000028"))
        generator = EventGenerator(tuple(wards), DATASETS, date(2023, 1, 1), 12, seed=31)
        before = count_function_definitions(url)
        assert len(before) == 3
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            generator.write(conn, 1500, chunk=1000)
        migrate.upgrade(url, "0031")
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            kept, computed = kept_and_computed(conn, "event_count_ward_total")
            assert sum(kept.values()) > 100 and kept == computed, "the backfill"
            wider = conn.execute("SELECT count(*) FROM event_count").fetchone()
            assert wider is not None and wider[0] > sum(kept.values()), "fewer rows than event_count"
            generator.write(conn, 500, start=1500)
            conn.execute(
                "UPDATE event SET category = 'burglary' WHERE event_id IN "
                "(SELECT event_id FROM event WHERE category <> 'burglary' ORDER BY event_id LIMIT 50)"
            )
            conn.execute(
                "UPDATE event SET period_month = '2023-02-01' WHERE event_id IN "
                "(SELECT event_id FROM event WHERE period_month = '2023-05-01' ORDER BY event_id LIMIT 50)"
            )
            conn.execute("DELETE FROM event WHERE event_id IN (SELECT event_id FROM event ORDER BY event_id LIMIT 100)")
            assert_aggregates_consistent(conn, "inserts, corrections and deletes after the migration")
        with session_scope(url) as session:
            assert aggregate_table(CSP_QUERY) == "event_count_ward_total"
            from_totals = count_cells(session, CSP_QUERY)
            # the same answer summed from event_count's categories
            assert count_cells(session, replace(CSP_QUERY, categories=("violent-crime", "burglary"))) == from_totals
            assert from_totals[0]
        assert_downgrade_round_trip(
            url, "0031", "event_count_ward_total", before, lambda conn: generator.write(conn, 500, start=2000)
        )
    finally:
        local.drop_database(name, services.database_url)
