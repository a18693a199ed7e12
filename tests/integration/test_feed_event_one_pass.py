"""Migration 0030: the data-quality trigger's one-pass statement keeps the figures 0017's kept.

The same statements of decisions (duplicates: several events with one fingerprint; versions: an event decided
again with new content, several decisions of one event in one statement out of time order, one stamped before
the event's first; redeliveries: an event decided again the same way, a change that adds up to nothing) go into a
warehouse at 0029 and one at 0030. Each warehouse's per-feed tables and `feed_event` are checked against figures
worked out here in Python from the decisions alone, and the two warehouses against each other row for row (rows
counted down to 0 included). Then 0030 is downgraded and upgraded again, with decisions in between, and its
tables still hold the figures worked out from every decision.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest
from alembic import command

from deploy import local
from tests.support.hub import Services
from warehouse.schema import migrate
from warehouse.schema.db import libpq_url

pytestmark = pytest.mark.integration

AT = datetime(2024, 7, 1, 12, tzinfo=UTC)
STREET, API = ("police-uk-street", "sussex-police"), ("police-uk-api", "essex-police")
INSERT = (
    "INSERT INTO decision (event_id, content_hash, dataset, partner, period_month, outcome, protocols, fields_dropped,"
    " spatial_precision, decided_at, fields_present, fingerprint, period_end, geocoded) VALUES "
)
ROW = "(%s, %s, %s, %s, '2024-05-01', %s, %s, '{}', '{}', %s, %s, %s, %s, %s)"
TABLES = {
    "feed_total": "SELECT dataset, partner, decisions, versions, events, released, withheld, geocoded, last_seen "
    "FROM feed_total",
    "feed_field": "SELECT dataset, partner, field, events FROM feed_field",
    "feed_fingerprint": "SELECT dataset, partner, fingerprint, events FROM feed_fingerprint",
    "feed_lateness": "SELECT dataset, partner, days, events FROM feed_lateness",
    "feed_event": "SELECT event_id, dataset, partner, decisions, hashes, first_decided_at, period_end, "
    "latest_decided_at, outcome, fields_present, fingerprint, geocoded FROM feed_event",
}


@dataclass(frozen=True)
class Decision:
    event: int
    content: str
    outcome: str
    hours_ago: float
    feed: tuple[str, str] = STREET
    fields: tuple[str, ...] = ("category",)
    fingerprint: str | None = None
    period_end: date | None = date(2024, 5, 31)
    geocoded: bool | None = True
    protocols: tuple[str, ...] = ()  # a decision of the same content under other protocols is another decision

    @property
    def decided_at(self) -> datetime:
        return AT - timedelta(hours=self.hours_ago)

    def row(self) -> tuple[Any, ...]:
        return (
            uuid.UUID(int=self.event),
            self.content,
            *self.feed,
            self.outcome,
            list(self.protocols),
            self.decided_at,
            list(self.fields),
            self.fingerprint,
            self.period_end,
            self.geocoded,
        )


D = Decision
BEFORE = [  # each inner list is one INSERT statement
    [D(1, "a1", "released", 500, fingerprint="x"), D(2, "b1", "released", 400, fingerprint="x")],
    [D(3, "c1", "withheld", 300, fields=("category", "location"), geocoded=False, period_end=date(2024, 4, 30))],
    # versions of one event in one statement, out of time order, and a duplicate fingerprint across feeds
    [
        D(4, "d2", "released", 10, fingerprint="y"),
        D(4, "d1", "withheld", 200, fingerprint="x"),
        D(4, "d3", "released", 50, fingerprint="y", fields=("category", "outcome")),
        D(5, "e1", "released", 100, feed=API, fingerprint="y", period_end=None, geocoded=None),
    ],
    # a new version of event 1 (no longer a duplicate of 2); event 2 decided again under other protocols, its
    # fields, fingerprint and lateness unchanged (changes that add up to nothing)
    [
        D(1, "a2", "withheld", 5, fingerprint="z", fields=()),
        D(2, "b1", "released", 4, fingerprint="x", protocols=("q@1#c",)),
    ],
]
BETWEEN = [  # while downgraded to 0029
    [D(6, "f1", "released", 3, fingerprint="z"), D(3, "c2", "released", 2, fingerprint="x")],
]
AFTER = [  # upgraded to 0030 again
    # an event's decision stamped before its first moves it to that decision's feed and first time
    [D(6, "f0", "released", 900, feed=API, fingerprint="z", period_end=date(2024, 1, 31))],
    [D(7, "g1", "released", 1, fingerprint="x"), D(7, "g1", "released", 1, fingerprint="x", protocols=("q@1#c",))],
]


def _expected(statements: list[list[Decision]]) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows with a non-zero count (feed_event: every row), worked out from the decisions alone."""
    ordered = [d for statement in statements for d in statement]  # decision ids follow this order
    by_event: dict[int, list[tuple[int, Decision]]] = {}
    for i, d in enumerate(ordered):
        by_event.setdefault(d.event, []).append((i, d))
    totals: dict[tuple[str, str], list[Any]] = {}
    fields: Counter[tuple[str, str, str]] = Counter()
    prints: Counter[tuple[str, str, str]] = Counter()
    late: Counter[tuple[str, str, int]] = Counter()
    events = []
    for event, decided in by_event.items():
        first = min(decided, key=lambda p: (p[1].decided_at, p[0]))[1]
        latest = max(decided, key=lambda p: (p[1].decided_at, p[0]))[1]
        hashes = sorted({d.content for _, d in decided})
        feed = first.feed
        events.append(
            (uuid.UUID(int=event), *feed, len(decided), hashes, first.decided_at, first.period_end,
             latest.decided_at, latest.outcome, list(latest.fields), latest.fingerprint, latest.geocoded)
        )  # fmt: skip
        total = totals.setdefault(feed, [*feed, 0, 0, 0, 0, 0, 0, latest.decided_at])
        total[2] += len(decided)
        total[3] += len(hashes)
        total[4] += 1
        total[5] += latest.outcome == "released"
        total[6] += latest.outcome == "withheld"
        total[7] += latest.geocoded is True
        total[8] = max(total[8], latest.decided_at)
        fields.update((*feed, f) for f in latest.fields)
        if latest.fingerprint is not None:
            prints[(*feed, latest.fingerprint)] += 1
        if first.period_end is not None:
            late[(*feed, (first.decided_at.date() - first.period_end).days)] += 1
    return {
        "feed_total": sorted(tuple(t) for t in totals.values()),
        "feed_field": sorted((*k, n) for k, n in fields.items()),
        "feed_fingerprint": sorted((*k, n) for k, n in prints.items()),
        "feed_lateness": sorted((*k, n) for k, n in late.items()),
        "feed_event": sorted(events),
    }


def _insert(url: str, statements: list[list[Decision]]) -> None:
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        for statement in statements:
            values = ", ".join(ROW for _ in statement)
            conn.execute(INSERT + values, [v for d in statement for v in d.row()])


def _tables(url: str, nonzero: bool) -> dict[str, list[tuple[Any, ...]]]:
    with psycopg.connect(libpq_url(url)) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        return {
            name: sorted(
                row
                for row in conn.execute(sql).fetchall()
                if name == "feed_event" or not nonzero or row[-1] != 0 or name == "feed_total"
            )
            for name, sql in TABLES.items()
        }


@pytest.fixture
def databases(services: Services) -> Iterator[dict[str, str]]:
    """Two empty warehouses: one at 0029 (0017's statement), one at 0030."""
    names = {revision: f"hub_test_{uuid.uuid4().hex[:10]}" for revision in ("0029", "0030")}
    urls = {revision: local.create_database(name, services.database_url) for revision, name in names.items()}
    try:
        for revision, url in urls.items():
            migrate.upgrade(url, revision)
        yield urls
    finally:
        for name in names.values():
            local.drop_database(name, services.database_url)


def test_the_one_pass_statement_keeps_the_figures_of_0017s_and_its_round_trip_keeps_them(
    databases: dict[str, str],
) -> None:
    for url in databases.values():
        _insert(url, BEFORE)
    expected = _expected(BEFORE)
    assert expected["feed_fingerprint"] == [(*API, "y", 1), (*STREET, "x", 1), (*STREET, "y", 1), (*STREET, "z", 1)]
    assert _tables(databases["0029"], nonzero=True) == expected
    assert _tables(databases["0030"], nonzero=True) == expected
    # row for row, rows counted down to 0 included (0030 skips a change that adds up to nothing, 0017 wrote it)
    assert _tables(databases["0030"], nonzero=False) == _tables(databases["0029"], nonzero=False)

    url = databases["0030"]
    config = migrate.alembic_config(url)
    command.downgrade(config, "0029")
    _insert(url, BETWEEN)
    migrate.upgrade(url, "0030")
    _insert(url, AFTER)
    everything = _expected(BEFORE + BETWEEN + AFTER)
    assert (*API, 3, 3, 2, 2, 0, 1, AT - timedelta(hours=3)) in everything["feed_total"]  # event 6 moved feed
    assert _tables(url, nonzero=True) == everything
