"""What information-governance leads read: released flows and withheld events from `decision`, the access log,
retention runs and retractions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from warehouse.queries.quality import RETRACTION_LATEST_DECISION, RETRACTION_PARTNER, UNKNOWN


@dataclass(frozen=True)
class Flow:
    """Distinct events released under one clause (`ref`, label#clause) from one partner in one month."""

    ref: str
    partner: str
    period: str  # YYYY-MM
    events: int


@dataclass(frozen=True)
class Withheld:
    """Events withheld for one reason (`code`), of one dataset, from one partner, in one month."""

    code: str
    dataset: str
    partner: str
    period: str  # YYYY-MM
    events: int


@dataclass(frozen=True)
class AccessRecord:
    """One row of the access log."""

    at: datetime
    org: str
    role: str
    endpoint: str
    query: dict[str, Any]
    protocols: list[str]
    rows: int
    status: int


def released_flows(session: Session, first: date, last: date) -> list[Flow]:
    """Released events by clause, partner and month, for months first..last, in that order."""
    rows = session.execute(
        text(
            "SELECT ref, partner, to_char(period_month, 'YYYY-MM'), count(DISTINCT event_id) "
            "FROM decision, unnest(protocols) AS ref "
            "WHERE outcome = 'released' AND period_month BETWEEN :f AND :t GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
        ),
        {"f": first, "t": last},
    ).all()
    return [Flow(str(r[0]), r[1], r[2], r[3]) for r in rows]


def withheld_events(session: Session, first: date, last: date, partner: str | None) -> list[Withheld]:
    """Withheld events by reason, dataset, partner and month, for months first..last (one partner's, or all)."""
    rows = session.execute(
        text(
            "SELECT code, dataset, partner, to_char(period_month, 'YYYY-MM'), count(*) FROM decision "
            "WHERE outcome = 'withheld' AND period_month BETWEEN :f AND :t AND (:all OR partner = :org) "
            "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
        ),
        {"f": first, "t": last, "all": partner is None, "org": partner},
    ).all()
    return [Withheld(r[0], r[1], r[2], r[3], r[4]) for r in rows]


@dataclass(frozen=True)
class AccessFilter:
    """Which access records to read: each condition given narrows them (None: any). `endpoint` is a path prefix;
    `since` and `until` bound the time (`since` <= at < `until`)."""

    org: str | None = None
    role: str | None = None
    endpoint: str | None = None
    status: int | None = None
    since: datetime | None = None
    until: datetime | None = None


# The SQL condition of each AccessFilter field, when it is given (constant text: the values are bound).
_ACCESS_CONDITIONS = {
    "org": "org = :org",
    "role": "role = :role",
    "endpoint": "starts_with(endpoint, :endpoint)",
    "status": "status = :status",
    "since": "at >= :since",
    "until": "at < :until",
}


def access_records(session: Session, where: AccessFilter, limit: int, offset: int = 0) -> list[AccessRecord]:
    """The access records `where` picks, newest first: `limit` of them after the first `offset`."""
    given = asdict(where)
    conditions = ["true", *(sql for name, sql in _ACCESS_CONDITIONS.items() if given[name] is not None)]
    rows = session.execute(
        text(
            "SELECT at, org, role, endpoint, query, protocols, rows, status FROM access_log "
            f"WHERE {' AND '.join(conditions)} ORDER BY id DESC LIMIT :limit OFFSET :offset"
        ),
        {**given, "limit": limit, "offset": offset},
    ).all()
    return [AccessRecord(r[0], r[1], r[2], r[3], r[4], list(r[5]), r[6], r[7]) for r in rows]


@dataclass(frozen=True)
class RetentionRun:
    """What one retention run removed of one dataset: whole events (`field` None) or one field of `deleted`."""

    run_at: datetime
    today: date
    dataset: str
    field: str | None
    deleted: int


def retention_runs(
    session: Session, datasets: Sequence[str] | None, first: date, last: date, limit: int, offset: int = 0
) -> list[RetentionRun]:
    """Retention runs of days first..last (their `today`), newest first, of `datasets` (None: every dataset)."""
    rows = session.execute(
        text(
            "SELECT run_at, today, dataset, field, deleted FROM retention_run "
            "WHERE today BETWEEN :f AND :t AND (:all OR dataset = ANY(:datasets)) "
            "ORDER BY id DESC LIMIT :limit OFFSET :offset"
        ),
        {
            "f": first,
            "t": last,
            "all": datasets is None,
            "datasets": list(datasets or ()),
            "limit": limit,
            "offset": offset,
        },
    ).all()
    return [RetentionRun(r[0], r[1], r[2], r[3], r[4]) for r in rows]


@dataclass(frozen=True)
class Retractions:
    """Records withdrawn by a partner of one dataset on one day (UTC), and how many deleted a stored event."""

    day: date
    dataset: str
    partner: str
    retractions: int
    removed: int


def retractions(session: Session, partner: str | None, first: date, last: date) -> list[Retractions]:
    """Retractions of days first..last by day (newest first), dataset and partner (one partner's, or all); a
    retraction's partner is attributed as the data-quality report does (`warehouse.queries.quality`)."""
    rows = session.execute(
        text(
            f"SELECT CAST(r.retracted_at AT TIME ZONE 'UTC' AS date) AS day, r.dataset, {RETRACTION_PARTNER} AS who, "
            "count(*), count(*) FILTER (WHERE r.removed) "
            f"FROM retraction AS r {RETRACTION_LATEST_DECISION} "
            "WHERE CAST(r.retracted_at AT TIME ZONE 'UTC' AS date) BETWEEN :f AND :t "
            f"AND (:all OR {RETRACTION_PARTNER} = :org) "
            "GROUP BY 1, 2, 3 ORDER BY 1 DESC, 2, 3"
        ),
        {"f": first, "t": last, "all": partner is None, "org": partner, "unknown": UNKNOWN},
    ).all()
    return [Retractions(r[0], r[1], r[2], r[3], r[4]) for r in rows]
