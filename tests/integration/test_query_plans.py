"""Query plans of the analyst query layer (EXPLAIN), and the tables the count triggers keep (`event_count`,
`event_count_district`, `event_count_ward_total`, `event_clause_set`) equal to a GROUP BY over `event`.

A few thousand events are written straight into `event` with SQL (benchmarks/generated_events.py, as the
warehouse benchmark does): twelve months of 2023 in the Sussex and Essex wards, with their real area codes.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.factory import create_app
from benchmarks.generated_events import EventGenerator, forces_wards
from sharing_protocols.perturbation import RECORD_KEY_MODULUS
from tests.support.aggregates import DATASETS, RECORDS, STREET, assert_aggregates_consistent
from tests.support.hub import UNLIMITED, HubEnv
from tests.support.reference_data import ALL_LOOKUPS, LOOKUPS_VINTAGE, load_reference
from warehouse.governance.retention import run_field_retention, run_retention
from warehouse.queries.aggregates import (
    CountQuery,
    Level,
    count_cells,
    count_sql,
    data_categories,
    data_months,
    justifying_sets,
)
from warehouse.queries.scope import ScopeFilter, released_under
from warehouse.schema.db import libpq_url, session_scope, warehouse_engine
from warehouse.settings import WarehouseSettings

pytestmark = pytest.mark.integration

EVENTS = 4000
EASTBOURNE_CSP, EAST_SUSSEX = "E22000295", "E10000011"


@pytest.fixture(scope="module")
def loaded(hub_env: HubEnv, shared_data: Path) -> Iterator[str]:
    """The module's warehouse with the lookups and EVENTS generated events of 2023 (then vacuumed, analysed)."""
    url = hub_env.database_url
    load_reference(url, lookups=ALL_LOOKUPS, data=shared_data)
    wards = forces_wards(url, LOOKUPS_VINTAGE, ("E23000033", "E23000028"))
    generator = EventGenerator(tuple(wards), DATASETS, date(2023, 1, 1), 12, seed=6)
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        generator.write(conn, EVENTS, chunk=1500)
        conn.execute("VACUUM (ANALYZE) event")
        conn.execute("VACUUM (ANALYZE) event_count")
        conn.execute("VACUUM (ANALYZE) event_count_district")
        conn.execute("VACUUM (ANALYZE) event_count_ward_total")
    yield url


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def explain(session: Session, sql: str, params: dict[str, Any], seqscan: bool = True) -> list[dict[str, Any]]:
    """Every node of the plan PostgreSQL chooses for `sql` (with sequential scans disabled unless `seqscan`)."""
    session.execute(text(f"SET LOCAL enable_seqscan = {'on' if seqscan else 'off'}"))
    document = session.execute(text(f"EXPLAIN (FORMAT JSON) {sql}"), params).scalar_one()
    return list(_nodes(document[0]["Plan"]))


def relations(nodes: list[dict[str, Any]]) -> set[str]:
    return {str(n["Relation Name"]) for n in nodes if "Relation Name" in n}


def csp_query() -> CountQuery:
    """Ward x month counts for one CSP over the year (the benchmark's first typical query)."""
    return CountQuery(
        datasets=("police-uk-street",),
        level=Level.ward,
        start=date(2023, 1, 1),
        end=date(2023, 12, 1),
        clause_refs=STREET[:1],
        areas=(EASTBOURNE_CSP,),
        area_level=Level.csp,
    )


def district_query(area_level: Level = Level.county, area: str = EAST_SUSSEX) -> CountQuery:
    """District x month x category counts within a county (or force, or one district): the district trend."""
    return CountQuery(
        datasets=("police-uk-street", "police-records"),
        level=Level.lad,
        start=date(2023, 4, 1),
        end=date(2023, 9, 1),
        clause_refs=STREET[:1] + RECORDS,
        by_category=True,
        areas=(area,),
        area_level=area_level,
    )


def csp_category_query() -> CountQuery:
    """Ward x month x category counts for one CSP over the year."""
    return replace(csp_query(), by_category=True)


@pytest.mark.parametrize(
    ("query", "table"),
    [
        (csp_query(), "event_count_ward_total"),
        (csp_category_query(), "event_count"),
        (replace(csp_query(), categories=("burglary",)), "event_count"),
        (replace(csp_query(), area_level=Level.county, areas=(EAST_SUSSEX,)), "event_count"),
        (district_query(), "event_count_district"),
        (district_query(Level.pfa, "E23000033"), "event_count_district"),
        (district_query(Level.lad, "E07000061"), "event_count_district"),
    ],
    ids=[
        "ward-by-csp",
        "ward-category-by-csp",
        "ward-one-category-by-csp",
        "ward-by-county",
        "district-by-county",
        "district-by-force",
        "district-by-district",
    ],
)
def test_area_counts_read_one_aggregate_once(loaded: str, query: CountQuery, table: str) -> None:
    with session_scope(loaded) as session:
        for unlocated in (True, False):
            sql, params = count_sql(query, unlocated)
            for seqscan in (True, False):
                nodes = explain(session, sql, params, seqscan)
                assert relations(nodes) == {table}, "only the aggregate without finer areas than asked is read"
                assert sum(1 for n in nodes if "Relation Name" in n) == 1, "located and unlocated cells in one read"


@pytest.mark.parametrize("unlocated", [True, False])
def test_ward_counts_of_a_csp_by_category_are_an_index_only_scan_of_its_covering_index(
    loaded: str, unlocated: bool
) -> None:
    sql, params = count_sql(csp_category_query(), unlocated)
    with session_scope(loaded) as session:
        scans = [n for n in explain(session, sql, params, seqscan=False) if "Index Name" in n]
    assert [(n["Node Type"], n["Index Name"]) for n in scans] == [("Index Only Scan", "ix_event_count_csp")]
    condition = str(scans[0]["Index Cond"])
    assert "csp_code = ANY" in condition and "period_month >=" in condition, condition


@pytest.mark.parametrize("unlocated", [True, False])
def test_ward_counts_of_a_csp_read_the_ward_totals_by_dataset_csp_and_months(loaded: str, unlocated: bool) -> None:
    """event_count_ward_total has its unique key alone (a count that changes is a HOT update), led by the dataset,
    CSP and month: the range a CSP's ward counts read."""
    sql, params = count_sql(csp_query(), unlocated)
    with session_scope(loaded) as session:
        indexes = session.scalars(text("SELECT indexname FROM pg_indexes WHERE tablename = 'event_count_ward_total'"))
        assert list(indexes) == ["event_count_ward_total_key"]
        scans = [n for n in explain(session, sql, params, seqscan=False) if "Index Name" in n]
    assert [n["Index Name"] for n in scans] == ["event_count_ward_total_key"]
    condition = str(scans[0]["Index Cond"])
    assert "csp_code = ANY" in condition and "period_month >=" in condition, condition


WARD_TOTAL_CASES = {
    "both clauses": (STREET, ()),
    "scoped to the CSP's county": (STREET[:1], (ScopeFilter(STREET[:1], "county", (EAST_SUSSEX,)),)),
    "scoped to another force": (STREET[:1], (ScopeFilter(STREET[:1], "pfa", ("E23000028",)),)),
}


@pytest.mark.parametrize("case", list(WARD_TOTAL_CASES))
def test_ward_counts_of_a_csp_from_the_ward_totals_equal_a_group_by_over_event(loaded: str, case: str) -> None:
    """Counted and keyed as from `event`, under clauses scoped or not, located and unlocated alike."""
    refs, scopes = WARD_TOTAL_CASES[case]
    query = replace(csp_query(), clause_refs=refs, scopes=scopes)
    with session_scope(loaded) as session:
        cells, unlocated = count_cells(session, query)
        released, params = released_under(refs, scopes)
        expected = session.execute(
            text(
                "SELECT ward_code, CASE WHEN ward_code IS NOT NULL THEN NULL WHEN location_status = 'located' "
                "THEN 'no_ward_code' ELSE location_status END, period_month, sum(weight), sum(record_key) "
                f"FROM event e WHERE dataset = 'police-uk-street' AND csp_code = :csp AND {released} "
                "AND period_month BETWEEN '2023-01-01' AND '2023-12-01' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
            ),
            {"csp": EASTBOURNE_CSP, **params},
        ).all()
    assert (len(expected) > 12) is (case != "scoped to another force")
    found: list[tuple[str | None, str | None, date, int, int]] = [
        (c.area_code, None, c.month, c.count, c.key) for c in cells
    ]
    found += [(None, u.reason, u.month, u.count, u.key) for u in unlocated]
    assert found == [(ward, why, month, n, key_sum % RECORD_KEY_MODULUS) for ward, why, month, n, key_sum in expected]


def test_district_counts_read_the_district_aggregate_by_dataset_and_months(loaded: str) -> None:
    """event_count_district has its unique key alone (no index entry to add when a count changes): led by the
    dataset and month, it is the range a district, CSP, county or force query reads."""
    sql, params = count_sql(district_query())
    with session_scope(loaded) as session:
        indexes = session.scalars(text("SELECT indexname FROM pg_indexes WHERE tablename = 'event_count_district'"))
        assert list(indexes) == ["event_count_district_key"]
        scans = [n for n in explain(session, sql, params, seqscan=False) if "Index Name" in n]
    assert {n["Index Name"] for n in scans} == {"event_count_district_key"}
    condition = " ".join(str(n.get("Index Cond")) for n in scans)
    assert "dataset = ANY" in condition and "period_month >=" in condition, condition


def test_dataset_wide_reads_use_the_small_aggregates(loaded: str) -> None:
    """The clause sets (from event_clause_set), months and categories (from event_count_district) of a dataset, as
    from event."""
    refs = STREET[:1] + RECORDS
    with session_scope(loaded) as session:
        session.execute(text("SET LOCAL enable_seqscan = off"))
        expected_months = session.execute(
            text("SELECT min(period_month), max(period_month) FROM event WHERE protocols && CAST(:r AS text[])"),
            {"r": list(refs)},
        ).one()
        assert data_months(session, [d.dataset for d in DATASETS], refs) == tuple(expected_months)
        for mix in DATASETS:
            sets = session.scalars(
                text(
                    "SELECT DISTINCT ARRAY(SELECT r FROM unnest(protocols) r WHERE r = ANY(CAST(:r AS text[])) "
                    "ORDER BY r) FROM event WHERE dataset = :d AND protocols && CAST(:r AS text[])"
                ),
                {"d": mix.dataset, "r": list(refs)},
            )
            assert sorted(justifying_sets(session, mix.dataset, refs)) == sorted(tuple(s) for s in sets)
            assert data_categories(session, mix.dataset, refs) == sorted(c for c, _ in mix.categories)


def test_lsoa_counts_scan_only_the_partitions_of_the_months_asked(loaded: str) -> None:
    query = CountQuery(
        datasets=("police-uk-street",),
        level=Level.lsoa,
        start=date(2023, 3, 1),
        end=date(2023, 5, 1),
        clause_refs=STREET[:1],
        areas=(EASTBOURNE_CSP,),
        area_level=Level.csp,
    )
    with session_scope(loaded) as session:
        partitions = session.scalars(
            text("SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'event'::regclass")
        )
        assert len(set(partitions)) == 12
        for unlocated in (True, False):
            sql, params = count_sql(query, unlocated)
            assert relations(explain(session, sql, params)) == {"event_y2023m03", "event_y2023m04", "event_y2023m05"}


def test_ward_counts_for_all_areas_read_event_count_by_month(loaded: str) -> None:
    query = CountQuery(("police-uk-street",), Level.ward, date(2023, 6, 1), date(2023, 6, 1), STREET[:1])
    located, params = count_sql(query, unlocated=False)
    with session_scope(loaded) as session:
        nodes = explain(session, located, params, seqscan=False)
    assert relations(nodes) == {"event_count"}
    assert all(n["Node Type"] != "Seq Scan" for n in nodes)


def _shown(session: Session) -> tuple[str, str]:
    return (
        str(session.execute(text("SHOW random_page_cost")).scalar_one()),
        str(session.execute(text("SHOW plan_cache_mode")).scalar_one()),
    )


def test_the_apis_connections_plan_under_the_hubs_planner_settings(hub_env: HubEnv) -> None:
    """Set by the engine on each connection it opens (the same on an external database), not by the server."""
    app = create_app(hub_env.api_warehouse, hub_env.register, hub_env.geography, UNLIMITED)
    with TestClient(app), Session(app.state.engine) as session:
        assert _shown(session) == ("1.1", "force_custom_plan")
    with session_scope(hub_env.api_url) as session:
        assert _shown(session) == ("4", "auto"), "a connection of another engine keeps the server's settings"


def test_a_repeated_count_is_planned_for_its_own_area(loaded: str) -> None:
    """psycopg prepares a statement run a sixth time on a connection; on the hub's engine each later run is still
    planned for its own area (PostgreSQL's default may turn to one generic plan, estimated for a few rows, after
    five custom ones: it did at 1M events)."""
    engine = warehouse_engine(WarehouseSettings(url=loaded))
    try:
        with Session(engine) as session:
            for area in (EASTBOURNE_CSP, "E22000081", "E22000084") * 4:
                count_cells(session, replace(csp_query(), areas=(area,)))
            plans = session.execute(
                text(
                    "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                    "WHERE statement LIKE 'SELECT area_code%FROM event_count_ward_total e %'"
                )
            ).all()
    finally:
        engine.dispose()
    assert [tuple(p) for p in plans] == [(0, 12 - 5)]


def test_counts_are_the_same_under_the_hubs_planner_settings(loaded: str) -> None:
    engine = warehouse_engine(WarehouseSettings(url=loaded))
    try:
        for query in (csp_query(), district_query(), district_query(Level.pfa, "E23000033")):
            with Session(engine) as session:
                hub = count_cells(session, query)
            with session_scope(loaded) as session:
                assert _shown(session) == ("4", "auto")
                default = count_cells(session, query)
            assert hub == default and hub[0], query
    finally:
        engine.dispose()


def test_the_kept_aggregates_equal_a_group_by_over_event_after_every_kind_of_change(loaded: str) -> None:
    url = loaded
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        assert_aggregates_consistent(conn, "the generated inserts")
        picked = conn.execute(
            "SELECT event_id, period_month FROM event WHERE period_month BETWEEN '2023-04-01' AND '2023-12-01' "
            "AND location_status = 'located' ORDER BY event_id LIMIT 200"
        ).fetchall()
        ids = [row[0] for row in picked]

        # corrections: move events to another month (another partition) and category
        conn.execute(
            "UPDATE event SET period_month = (period_month - interval '2 months')::date, "
            "period_start = (period_start - interval '2 months')::date, "
            "period_end = (period_month - interval '1 month' - interval '1 day')::date, "
            "category = 'public-order' WHERE event_id = ANY(%s)",
            (ids[:60],),
        )
        assert_aggregates_consistent(conn, "an update that moves events to another month and category")

        # another ward (and so district, CSP, county, force), a new clause set and a weight, in place
        eastbourne = conn.execute(
            "SELECT ward_code, district_code, csp_code, county_code, pfa_code FROM event WHERE csp_code = %s LIMIT 1",
            (EASTBOURNE_CSP,),
        ).fetchone()
        assert eastbourne is not None
        conn.execute(
            "UPDATE event SET ward_code = %s, district_code = %s, csp_code = %s, county_code = %s, pfa_code = %s, "
            "protocols = ARRAY['police-uk-public@1#public-lsoa-monthly-counts'], weight = 7 WHERE event_id = ANY(%s)",
            (*eastbourne, ids[60:100]),
        )
        assert_aggregates_consistent(conn, "an update of area codes, clauses and weight")

        # the sink's upsert path: a re-delivered event with new content (ON CONFLICT DO UPDATE), and a new one
        conn.execute(
            "INSERT INTO event SELECT * FROM event WHERE event_id = ANY(%s) ON CONFLICT (event_id, period_month) "
            "DO UPDATE SET category = 'drugs', location_status = 'outside_coverage', ward_code = NULL",
            (ids[100:120],),
        )
        columns = [
            str(row[0])
            for row in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'event' "
                "AND column_name <> 'event_id' ORDER BY ordinal_position"
            )
        ]
        conn.execute(
            f"INSERT INTO event (event_id, {', '.join(columns)}) SELECT %s, {', '.join(columns)} FROM event "
            "WHERE event_id = %s",
            (uuid.uuid4(), ids[120]),
        )
        assert_aggregates_consistent(conn, "upserts")

        # withdrawal / retraction: the sink deletes by event id
        conn.execute("DELETE FROM event WHERE event_id = ANY(%s)", (ids[121:200],))
        assert_aggregates_consistent(conn, "deletes by event id")
        before = conn.execute("SELECT count(*) FROM event").fetchone()

    # field retention: the category, the ward, all area codes, a clause, or only attributes (no count changes) go
    kept, gone = "2030-01-01", "2024-01-01"
    held = {"location:lsoa": kept, "location:ward": kept, "location:district": kept, "period:month": kept}
    held |= {f"clause:{ref}": kept for ref in STREET + RECORDS}
    maps = [
        held | {"category": gone, "location:ward": gone},
        held | {"category": kept, "location:district": gone},
        held | {"category": kept, f"clause:{STREET[1]}": gone},
        held | {"category": kept},  # the attributes (not in the map) go: a change that moves no count
    ]
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        trimmed = conn.execute(
            "SELECT event_id FROM event WHERE period_month BETWEEN '2023-06-01' AND '2023-12-01' "
            "AND location_status = 'located' AND NOT event_id = ANY(%s) ORDER BY event_id LIMIT 200",
            (ids,),
        ).fetchall()
        for i, kept_map in enumerate(maps):
            chosen = [row[0] for row in trimmed[i * 50 : (i + 1) * 50]]
            conn.execute(
                "UPDATE event SET field_retain_until = %s::jsonb WHERE event_id = ANY(%s)",
                (json.dumps(kept_map), chosen),
            )
        assert_aggregates_consistent(conn, "an update that moves no count")
    with session_scope(url) as session:
        _, removed = run_field_retention(session, date(2024, 6, 1))
    assert {field for _, field in removed} >= {"category", "location:ward", "location:district", f"clause:{STREET[1]}"}
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        assert_aggregates_consistent(conn, "field retention")

    # retention: events of January and February 2023 are kept until January/February 2025
    with session_scope(url) as session:
        deleted = run_retention(session, date(2025, 3, 1))
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        after = conn.execute("SELECT count(*) FROM event").fetchone()
        assert before and after and sum(deleted.values()) == before[0] - after[0] > 0
        assert conn.execute("SELECT count(*) FROM event WHERE retain_until < '2025-03-01'").fetchone() == (0,)
        assert_aggregates_consistent(conn, "retention")
        zero = conn.execute("SELECT count(*) FROM event_count WHERE events = 0").fetchone()
        assert zero and zero[0] > 0, "rows counted down to zero are kept (and ignored)"
