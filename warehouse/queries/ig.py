"""What information-governance leads read: released flows and withheld events from `decision`, and the access log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session


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


def latest_access(session: Session, org: str | None, limit: int) -> list[AccessRecord]:
    """The latest `limit` access records, newest first (one organisation's, or all)."""
    rows = session.execute(
        text(
            "SELECT at, org, role, endpoint, query, protocols, rows, status FROM access_log "
            "WHERE :all OR org = :org ORDER BY id DESC LIMIT :limit"
        ),
        {"all": org is None, "org": org, "limit": limit},
    ).all()
    return [AccessRecord(r[0], r[1], r[2], r[3], r[4], list(r[5]), r[6], r[7]) for r in rows]
