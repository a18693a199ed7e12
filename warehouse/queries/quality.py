"""Per-feed data-quality report: what each partner sent per dataset, how complete, how timely, how regular.

A feed is one (dataset, partner) pair. Every figure comes from the audit tables (`decision`, `retraction`,
`dead_letter`), never from `event`, so withheld and retention-deleted events still count. The measures are
described exactly in docs/data-quality.md.

The report as of now over all time (the API's, and `hub dq` without a window) reads the per-feed tables a trigger
on `decision` keeps (a few rows per feed; migration 0017); a report with a window, or as of a time before the latest
decision, works them out from `decision` itself. Both give the same figures.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import TypeAdapter
from sqlalchemy import text
from sqlalchemy.orm import Session

from sharing_protocols.catalogue import CATALOGUE
from sharing_protocols.decision import ProtocolRegister

Status = Literal["no_data", "silent", "low", "ok"]
Feed = tuple[str, str]  # (dataset, partner)

UNKNOWN = "unknown"  # the partner of a dead letter or retraction that names none
DEFAULT_LATE_DAYS = 35
WEEKS_OF_HISTORY = 8
LOW_SHARE = 0.5


@dataclass(frozen=True)
class FieldCompleteness:
    """How many of a feed's events have `field` filled in, and which share of its events that is."""

    field: str
    present: int
    share: float | None  # None when the feed has no events in the window


@dataclass(frozen=True)
class Volume:
    """How regularly the feed arrives, relative to `now` (whatever the report's window)."""

    last_seen: datetime | None
    last_7_days: int
    usual_weekly: float  # median of the events received in each of the 8 weeks before the last 7 days
    weekly: list[int]  # those 8 weeks, most recent first
    status: Status


@dataclass(frozen=True)
class FeedQuality:
    """The data-quality figures of one feed over the report's window."""

    dataset: str
    partner: str
    protocols: list[str]  # protocols in force naming the partner as a data owner of the dataset
    decisions: int
    versions: int
    events: int
    released: int
    withheld: int
    retracted: int
    dead_lettered: int
    completeness: list[FieldCompleteness]
    geocodable: int
    geocodable_share: float | None
    duplicate_groups: int
    duplicates: int  # extra copies: sum of (n - 1) over groups of n events with one fingerprint
    late: int
    late_share: float | None
    volume: Volume


@dataclass(frozen=True)
class QualityReport:
    """The report: its parameters and one FeedQuality per feed, sorted by dataset then partner."""

    now: datetime
    since: datetime | None
    until: datetime | None
    late_days: int
    feeds: list[FeedQuality] = field(default_factory=list)


_REPORT = TypeAdapter(QualityReport)


def report_json(report: QualityReport) -> dict[str, Any]:
    """The report as JSON-ready data (the CLI's `--json` and the API return exactly this)."""
    data: dict[str, Any] = _REPORT.dump_python(report, mode="json")
    return data


def feed_status(ever_received: bool, last_7_days: int, usual_weekly: float) -> Status:
    """The volume status: no_data (never), silent (nothing in 7 days), low (< half the usual week), else ok."""
    if not ever_received:
        return "no_data"
    if last_7_days == 0:
        return "silent"
    if usual_weekly > 0 and last_7_days < LOW_SHARE * usual_weekly:
        return "low"
    return "ok"


def usual_weekly(weekly: Sequence[int]) -> float:
    """The usual weekly volume: the median of the given weeks (0 without any)."""
    return float(statistics.median(weekly)) if weekly else 0.0


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# Decisions in the window, and per event its latest decision (what it is now) and its first (when it arrived).
_WINDOW = """
WITH d AS (
    SELECT * FROM decision
    WHERE (CAST(:since AS timestamptz) IS NULL OR decided_at >= CAST(:since AS timestamptz))
      AND (CAST(:until AS timestamptz) IS NULL OR decided_at < CAST(:until AS timestamptz))
      AND (CAST(:dataset AS text) IS NULL OR dataset = CAST(:dataset AS text))
      AND (CAST(:partner AS text) IS NULL OR partner = CAST(:partner AS text))
),
latest AS (
    SELECT DISTINCT ON (event_id) event_id, dataset, partner, outcome, fields_present, fingerprint, geocoded
    FROM d ORDER BY event_id, decided_at DESC, id DESC
),
first AS (
    SELECT DISTINCT ON (event_id) event_id, dataset, partner, decided_at, period_end
    FROM d ORDER BY event_id, decided_at, id
)
"""

_COUNTS = (
    _WINDOW
    + """
SELECT c.dataset, c.partner, c.decisions, c.versions, c.events, l.released, l.withheld, l.geocoded
FROM (
    SELECT dataset, partner, count(*) AS decisions, count(DISTINCT (event_id, content_hash)) AS versions,
           count(DISTINCT event_id) AS events
    FROM d GROUP BY dataset, partner
) AS c JOIN (
    SELECT dataset, partner, count(*) FILTER (WHERE outcome = 'released') AS released,
           count(*) FILTER (WHERE outcome = 'withheld') AS withheld, count(*) FILTER (WHERE geocoded) AS geocoded
    FROM latest GROUP BY dataset, partner
) AS l USING (dataset, partner)
"""
)

_FIELDS = (
    _WINDOW
    + """
SELECT dataset, partner, name, count(*) FROM latest, unnest(fields_present) AS name GROUP BY 1, 2, 3
"""
)

_DUPLICATES = (
    _WINDOW
    + """
SELECT dataset, partner, count(*), sum(n - 1) FROM (
    SELECT dataset, partner, count(*) AS n FROM latest WHERE fingerprint IS NOT NULL
    GROUP BY dataset, partner, fingerprint HAVING count(*) > 1
) AS groups GROUP BY 1, 2
"""
)

_LATE = (
    _WINDOW
    + """
SELECT dataset, partner, count(*) FROM first
WHERE CAST(decided_at AT TIME ZONE 'UTC' AS date) - period_end > :late_days GROUP BY 1, 2
"""
)

# A retraction's partner (`retraction AS r` joined to this): its own, else that of the retracted event's latest
# decision (any time), else unknown.
RETRACTION_PARTNER = "coalesce(r.partner, ld.partner, :unknown)"
RETRACTION_LATEST_DECISION = """
LEFT JOIN LATERAL (
    SELECT partner FROM decision WHERE decision.event_id = r.event_id ORDER BY decided_at DESC, id DESC LIMIT 1
) AS ld ON true
"""
_RETRACTED = f"""
SELECT r.dataset, {RETRACTION_PARTNER}, count(*)
FROM retraction AS r
{RETRACTION_LATEST_DECISION}
WHERE (CAST(:since AS timestamptz) IS NULL OR r.retracted_at >= CAST(:since AS timestamptz))
  AND (CAST(:until AS timestamptz) IS NULL OR r.retracted_at < CAST(:until AS timestamptz))
  AND (CAST(:dataset AS text) IS NULL OR r.dataset = CAST(:dataset AS text))
GROUP BY 1, 2
"""

_DEAD = """
SELECT coalesce(dataset, :unknown), coalesce(partner, :unknown), count(*) FROM dead_letter
WHERE (CAST(:since AS timestamptz) IS NULL OR received_at >= CAST(:since AS timestamptz))
  AND (CAST(:until AS timestamptz) IS NULL OR received_at < CAST(:until AS timestamptz))
  AND (CAST(:dataset AS text) IS NULL OR coalesce(dataset, :unknown) = CAST(:dataset AS text))
GROUP BY 1, 2
"""

# Week 0 is (now - 7 days, now], week k is (now - 7(k+1) days, now - 7k days]; decisions after `now` are ignored.
_VOLUME = """
SELECT dataset, partner, max(decided_at), CAST(floor(extract(epoch FROM (:now - decided_at)) / 604800) AS int) AS week,
       count(DISTINCT event_id)
FROM decision
WHERE decided_at <= :now
  AND (CAST(:dataset AS text) IS NULL OR dataset = CAST(:dataset AS text))
  AND (CAST(:partner AS text) IS NULL OR partner = CAST(:partner AS text))
GROUP BY dataset, partner, week
"""


# The same figures from the per-feed tables kept by the trigger on decision (migration 0017): a few rows per feed.
_FEED = """
WHERE (CAST(:dataset AS text) IS NULL OR dataset = CAST(:dataset AS text))
  AND (CAST(:partner AS text) IS NULL OR partner = CAST(:partner AS text))
"""
_KEPT_COUNTS = f"""
SELECT dataset, partner, decisions, versions, events, released, withheld, geocoded FROM feed_total {_FEED}
"""
_KEPT_FIELDS = f"SELECT dataset, partner, field, events FROM feed_field {_FEED} AND events > 0"
_KEPT_DUPLICATES = f"""
SELECT dataset, partner, count(*), sum(events - 1) FROM feed_fingerprint {_FEED} AND events > 1 GROUP BY 1, 2
"""
_KEPT_LATE = f"""
SELECT dataset, partner, sum(events) FROM feed_lateness {_FEED} AND days > :late_days GROUP BY 1, 2
"""
_KEPT_LAST_SEEN = f"SELECT dataset, partner, last_seen FROM feed_total {_FEED}"

# The weeks the volume reads (0 to WEEKS_OF_HISTORY) only: decisions of the last 9 weeks (index on decided_at).
_RECENT = f"CAST(:now AS timestamptz) - interval '{7 * (WEEKS_OF_HISTORY + 1)} days'"
_RECENT_VOLUME = _VOLUME.replace("WHERE decided_at <= :now", f"WHERE decided_at <= :now AND decided_at > {_RECENT}")

_DECIDED_AFTER = "SELECT EXISTS (SELECT 1 FROM decision WHERE decided_at > :now)"


def kept_state_applies(session: Session, now: datetime, since: datetime | None, until: datetime | None) -> bool:
    """Whether the kept per-feed tables give this report: all time, and nothing decided after `now`."""
    if since is not None or until is not None:
        return False
    return not session.execute(text(_DECIDED_AFTER), {"now": now}).scalar_one()


def _expected_feeds(register: ProtocolRegister, now: datetime) -> dict[Feed, list[str]]:
    """(dataset, the data owner providing it) of every protocol in force at `now`, with the protocols naming it."""
    expected: dict[Feed, list[str]] = defaultdict(list)
    for protocol in register.active_at(now.date()):
        for dataset in protocol.datasets:
            for owner in sorted(protocol.providers(dataset)):
                expected[(dataset, owner)].append(protocol.label)
    return expected


def _fields_of(dataset: str) -> tuple[str, ...]:
    """The fields whose completeness is measured: the catalogue attributes of the dataset, then location."""
    spec = CATALOGUE.get(dataset)
    return (*(spec.attributes if spec else ()), "location")


def _completeness(dataset: str, present: dict[str, int], events: int) -> list[FieldCompleteness]:
    counts = [(name, present.get(name, 0)) for name in _fields_of(dataset)]
    return [FieldCompleteness(name, n, _share(n, events)) for name, n in counts]


def _rows(session: Session, sql: str, params: dict[str, Any]) -> Iterable[tuple[Any, ...]]:
    return [tuple(row) for row in session.execute(text(sql), params).all()]


def feed_quality(
    session: Session,
    register: ProtocolRegister,
    now: datetime,
    *,
    dataset: str | None = None,
    partner: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    late_days: int = DEFAULT_LATE_DAYS,
) -> QualityReport:
    """The data-quality report of every feed (or those of `dataset` / `partner`) over [since, until).

    Feeds: every (dataset, partner) with a decision, with a dead letter or retraction in the window, or named as
    data owner of a dataset by a protocol in force at `now`. `now` must be timezone-aware.
    """
    params: dict[str, Any] = {
        "since": since,
        "until": until,
        "dataset": dataset,
        "partner": partner,
        "late_days": late_days,
        "unknown": UNKNOWN,
        "now": now,
    }
    kept = kept_state_applies(session, now, since, until)
    counts = {
        (r[0], r[1]): tuple(int(v) for v in r[2:]) for r in _rows(session, _KEPT_COUNTS if kept else _COUNTS, params)
    }
    present: dict[Feed, dict[str, int]] = defaultdict(dict)
    for ds, pt, name, n in _rows(session, _KEPT_FIELDS if kept else _FIELDS, params):
        present[(ds, pt)][name] = n
    rows = _rows(session, _KEPT_DUPLICATES if kept else _DUPLICATES, params)
    duplicates = {(r[0], r[1]): (int(r[2]), int(r[3])) for r in rows}
    late = {(r[0], r[1]): int(r[2]) for r in _rows(session, _KEPT_LATE if kept else _LATE, params)}
    retracted = {(r[0], r[1]): int(r[2]) for r in _rows(session, _RETRACTED, params)}
    dead = {(r[0], r[1]): int(r[2]) for r in _rows(session, _DEAD, params)}
    weeks: dict[Feed, dict[int, int]] = defaultdict(dict)
    last_seen: dict[Feed, datetime] = {}
    for ds, pt, seen, week, n in _rows(session, _RECENT_VOLUME if kept else _VOLUME, params):
        weeks[(ds, pt)][week] = n
        last_seen[(ds, pt)] = max(seen, last_seen.get((ds, pt), seen))
    if kept:
        last_seen.update({(r[0], r[1]): r[2] for r in _rows(session, _KEPT_LAST_SEEN, params)})
    expected = _expected_feeds(register, now)

    feeds = set(counts) | set(weeks) | set(expected) | set(retracted) | set(dead)
    feeds = {(ds, pt) for ds, pt in feeds if (dataset is None or ds == dataset) and (partner is None or pt == partner)}
    out: list[FeedQuality] = []
    for ds, pt in sorted(feeds):
        decisions, versions, events, released, withheld, geocoded = counts.get((ds, pt), (0, 0, 0, 0, 0, 0))
        history = [weeks[(ds, pt)].get(k, 0) for k in range(1, WEEKS_OF_HISTORY + 1)]
        recent, usual = weeks[(ds, pt)].get(0, 0), usual_weekly(history)
        groups, extra = duplicates.get((ds, pt), (0, 0))
        late_n = late.get((ds, pt), 0)
        out.append(
            FeedQuality(
                dataset=ds,
                partner=pt,
                protocols=expected.get((ds, pt), []),
                decisions=decisions,
                versions=versions,
                events=events,
                released=released,
                withheld=withheld,
                retracted=retracted.get((ds, pt), 0),
                dead_lettered=dead.get((ds, pt), 0),
                completeness=_completeness(ds, present[(ds, pt)], events),
                geocodable=geocoded,
                geocodable_share=_share(geocoded, events),
                duplicate_groups=groups,
                duplicates=extra,
                late=late_n,
                late_share=_share(late_n, events),
                volume=Volume(
                    last_seen=last_seen.get((ds, pt)),
                    last_7_days=recent,
                    usual_weekly=usual,
                    weekly=history,
                    status=feed_status((ds, pt) in last_seen, recent, usual),
                ),
            )
        )
    return QualityReport(now=now, since=since, until=until, late_days=late_days, feeds=out)
