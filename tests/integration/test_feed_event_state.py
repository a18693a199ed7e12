"""The data-quality state the trigger on decision keeps (migration 0017) against the same state worked out from
`decision` itself with DISTINCT ON (the definition in docs/data-quality.md): decisions inserted one statement at a
time and several in one statement, a later version, a decision stamped earlier than one already stored, an event
decided twice the same way. Each event's state (`feed_event`), then the report as of now (read from the per-feed
tables) against the report worked out from decision (a window from the epoch), on the same data.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from tests.support.hub import HubEnv
from warehouse.queries.quality import feed_quality, kept_state_applies, report_json
from warehouse.schema.db import session_scope

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)
EVENTS = [uuid.UUID(int=i + 1) for i in range(6)]
INSERT = (
    "INSERT INTO decision (event_id, content_hash, dataset, partner, period_month, outcome, protocols, fields_dropped,"
    " spatial_precision, decided_at, fields_present, fingerprint, period_end, geocoded) VALUES "
)
ROW = "(:e{i}, :h{i}, :d{i}, :p{i}, :m{i}, :o{i}, :pr{i}, '{{}}', '{{}}', :t{i}, :f{i}, :fp{i}, :pe{i}, :g{i})"


def _decision(event: uuid.UUID, content: str, outcome: str, days_ago: float, **extra: Any) -> dict[str, Any]:
    return {
        "e": event,
        "h": content,
        "d": extra.get("dataset", "police-uk-street"),
        "p": extra.get("partner", "sussex-police"),
        "m": date(2024, 5, 1),
        "o": outcome,
        "pr": ["p@1#c"] if outcome == "released" else [],
        "t": NOW - timedelta(days=days_ago),
        "f": extra.get("fields", ["category"]),
        "fp": extra.get("fingerprint"),
        "pe": extra.get("period_end", date(2024, 5, 31)),
        "g": extra.get("geocoded", True),
    }


def _insert(hub_env: HubEnv, decisions: list[dict[str, Any]]) -> None:
    """One INSERT statement for all of `decisions` (the trigger sees them as one transition table)."""
    rows = ", ".join(ROW.format(i=i) for i in range(len(decisions)))
    params = {f"{k}{i}": v for i, d in enumerate(decisions) for k, v in d.items()}
    with hub_env.engine.begin() as conn:
        conn.execute(text(INSERT + rows), params)


TRUTH = """
WITH latest AS (
    SELECT DISTINCT ON (event_id) event_id, outcome, fields_present, fingerprint, geocoded, decided_at
    FROM decision ORDER BY event_id, decided_at DESC, id DESC
), first AS (
    SELECT DISTINCT ON (event_id) event_id, dataset, partner, decided_at, period_end
    FROM decision ORDER BY event_id, decided_at, id
), counted AS (
    SELECT event_id, count(*) AS decisions, count(DISTINCT content_hash) AS versions FROM decision GROUP BY event_id
)
SELECT event_id, f.dataset, f.partner, c.decisions, c.versions, f.decided_at, f.period_end,
       l.decided_at, l.outcome, l.fields_present, l.fingerprint, l.geocoded
FROM counted AS c JOIN first AS f USING (event_id) JOIN latest AS l USING (event_id) ORDER BY event_id
"""
KEPT = """
SELECT event_id, dataset, partner, decisions, cardinality(hashes), first_decided_at, period_end,
       latest_decided_at, outcome, fields_present, fingerprint, geocoded
FROM feed_event ORDER BY event_id
"""


@pytest.fixture(scope="module")
def decided(hub_env: HubEnv) -> HubEnv:
    a, b, c, d, e, f = EVENTS
    _insert(hub_env, [_decision(a, "v1", "released", 20, period_end=date(2024, 1, 31))])  # late: 20 days ago
    _insert(hub_env, [_decision(a, "v2", "withheld", 3, fields=["category", "location"], geocoded=False)])
    _insert(hub_env, [_decision(b, "v1", "released", 2, fingerprint="same"), _decision(c, "v1", "released", 1)])
    # several decisions of one event in one statement, out of time order
    _insert(
        hub_env,
        [_decision(d, "v2", "released", 1), _decision(d, "v1", "withheld", 30), _decision(d, "v3", "released", 5)],
    )
    # a decision stamped earlier than the one already stored (its first, not its latest)
    _insert(hub_env, [_decision(e, "v2", "released", 1, fingerprint="same")])
    _insert(hub_env, [_decision(e, "v1", "withheld", 40, partner="sussex-police", period_end=date(2023, 1, 31))])
    # decided twice the same way under different protocols: two decisions, one version
    _insert(hub_env, [_decision(f, "v1", "released", 70, dataset="police-uk-api", partner="essex-police")])
    _insert(
        hub_env,
        [{**_decision(f, "v1", "released", 65, dataset="police-uk-api", partner="essex-police"), "pr": ["q@1#c"]}],
    )
    return hub_env


def test_the_kept_state_of_every_event_is_the_one_worked_out_from_its_decisions(decided: HubEnv) -> None:
    kept, truth = decided.query(KEPT), decided.query(TRUTH)
    assert len(truth) == len(EVENTS)
    assert kept == truth


def test_an_event_decided_three_times_in_one_statement_has_three_decisions_and_its_latest_outcome(
    decided: HubEnv,
) -> None:
    row = next(r for r in decided.query(KEPT) if r[0] == EVENTS[3])
    assert (row[3], row[4], row[8]) == (3, 3, "released")  # decisions, versions, the latest (1 day ago) released
    assert row[5] == NOW - timedelta(days=30)  # the first: the withheld v1


def _reports(hub_env: HubEnv, now: datetime) -> tuple[bool, dict[str, Any], dict[str, Any]]:
    """Whether feed_event answers as of `now`; the report as of `now`; the one worked out from decision."""
    with session_scope(hub_env.engine) as session:
        kept = kept_state_applies(session, now, None, None)
        report = report_json(feed_quality(session, hub_env.register, now))
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        scanned = report_json(feed_quality(session, hub_env.register, now, since=epoch))
    assert report.pop("since") is None and datetime.fromisoformat(scanned.pop("since")) == epoch
    return kept, report, scanned


def test_the_report_as_of_now_comes_from_feed_event_and_is_the_one_worked_out_from_decision(decided: HubEnv) -> None:
    kept, report, scanned = _reports(decided, NOW + timedelta(seconds=1))
    assert kept
    assert [f for f in report["feeds"] if f["events"]], "the report found no events"
    assert report == scanned


def test_a_report_as_of_a_time_before_later_decisions_is_worked_out_from_decision(decided: HubEnv) -> None:
    kept, report, scanned = _reports(decided, NOW - timedelta(days=10))
    assert not kept
    assert report == scanned
    feed = next(f for f in report["feeds"] if (f["dataset"], f["partner"]) == ("police-uk-street", "sussex-police"))
    assert datetime.fromisoformat(feed["volume"]["last_seen"]) <= NOW - timedelta(days=10)
