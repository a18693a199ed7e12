"""Migration 0029: the indexes no read uses, on tables the loader writes, are gone at head, and its downgrade makes
them again as they were; the indexes the reads and the upserts need stay."""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from alembic import command

from deploy import local
from tests.support.hub import Services
from warehouse.schema import migrate
from warehouse.schema.db import libpq_url

pytestmark = pytest.mark.integration

DROPPING = importlib.import_module("warehouse.schema.migrations.versions.0029_drop_unread_write_indexes")
# What the earlier migrations made them as (pg_indexes.indexdef), written out here, not taken from 0029.
AS_MADE = {
    "ix_retraction_event_id": "CREATE INDEX ix_retraction_event_id ON public.retraction USING btree (event_id)",
}
# Read by the data-quality report, the IG console, the sink's owner and stored-version reads, or an upsert's ON
# CONFLICT: these stay.
NEEDED = (
    "decision_decided_at",
    "decision_feed",
    "decision_once",
    "ix_decision_outcome_month",
    "event_pkey",
    "ix_event_counts",
    "ix_event_retain_until",
    "retraction_source_key",
    "feed_event_pkey",
    "feed_fingerprint_pkey",
    "feed_fingerprint_repeated",
    "event_count_key",
    "ix_event_count_csp",
    "event_count_district_key",
)


@pytest.fixture(scope="module")
def url(services: Services) -> Iterator[str]:
    """A database of its own, migrated to head (the test downgrades and upgrades it)."""
    name = f"hub_test_idx_{uuid.uuid4().hex[:10]}"
    made = local.create_database(name, services.database_url)
    migrate.upgrade(made)
    yield made
    local.drop_database(name, services.database_url)


def _indexes(url: str) -> dict[str, str]:
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'").fetchall()
    return {str(name): str(definition) for name, definition in rows}


def test_the_unread_indexes_are_gone_at_head_and_the_needed_ones_stay(url: str) -> None:
    found = _indexes(url)
    assert set(AS_MADE) & set(found) == set()
    assert [name for name in NEEDED if name not in found] == []


def test_the_downgrade_makes_them_as_they_were_and_the_upgrade_drops_them_again(url: str) -> None:
    config = migrate.alembic_config(url)
    command.downgrade(config, DROPPING.down_revision)
    back = _indexes(url)
    assert {name: back.get(name) for name in AS_MADE} == AS_MADE
    command.upgrade(config, "head")
    assert set(AS_MADE) & set(_indexes(url)) == set()
