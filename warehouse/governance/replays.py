"""The IG record of `hub replay` runs (`replay_run`, migration 0023): why each ran, its scope, who ran it, the
protocol versions in force, and what the messages it read became.

A run is recorded when it starts (so decisions it makes always name a recorded run) and finished once, with its
counts, when it has read everything it was to read; a run that stopped part-way keeps no finish time or counts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class ReplayScope:
    """What a replay reads: the partner topics of one dataset and/or one partner (None: any)."""

    dataset: str | None
    partner: str | None


@dataclass(frozen=True)
class ReplayCounts:
    """What the messages a replay read became: each is exactly one of released, withheld, retracted, dead-lettered."""

    messages: int = 0
    released: int = 0
    withheld: int = 0
    retracted: int = 0
    dead_lettered: int = 0


@dataclass(frozen=True)
class ReplayRun:
    """One replay as recorded (counts and finish time None while it runs, or if it stopped part-way)."""

    id: int
    started_at: datetime
    finished_at: datetime | None
    reason: str
    dataset: str | None
    partner: str | None
    topics: list[str]
    end_offsets: dict[str, int]
    run_by: str
    protocols: list[str]
    counts: ReplayCounts | None


def start_replay(
    session: Session,
    reason: str,
    scope: ReplayScope,
    end_offsets: Mapping[str, int],
    run_by: str,
    protocols: Sequence[str],
) -> int:
    """Record a replay starting now over `end_offsets` ("topic/partition" -> the offset it reads up to); its id."""
    if not reason.strip():
        raise ValueError("a replay needs a reason")
    topics = sorted({where.rpartition("/")[0] for where in end_offsets})
    return int(
        session.execute(
            text(
                "INSERT INTO replay_run (reason, dataset, partner, topics, end_offsets, run_by, protocols) "
                "VALUES (:reason, :dataset, :partner, :topics, CAST(:offsets AS jsonb), :by, :protocols) RETURNING id"
            ),
            {
                "reason": reason.strip(),
                "dataset": scope.dataset,
                "partner": scope.partner,
                "topics": topics,
                "offsets": json.dumps(dict(sorted(end_offsets.items()))),
                "by": run_by,
                "protocols": sorted(protocols),
            },
        ).scalar_one()
    )


def finish_replay(session: Session, replay_id: int, counts: ReplayCounts) -> None:
    """Record that replay `replay_id` read everything it was to, and what the messages became (once only)."""
    session.execute(
        text(
            "UPDATE replay_run SET finished_at = clock_timestamp(), messages = :messages, released = :released, "
            "withheld = :withheld, retracted = :retracted, dead_lettered = :dead_lettered WHERE id = :id"
        ),
        {"id": replay_id, **counts.__dict__},
    )


def replay_runs(session: Session, limit: int, offset: int = 0) -> list[ReplayRun]:
    """Recorded replays, newest first: `limit` of them after the first `offset`."""
    rows = session.execute(
        text(
            "SELECT id, started_at, finished_at, reason, dataset, partner, topics, end_offsets, run_by, protocols, "
            "messages, released, withheld, retracted, dead_lettered FROM replay_run "
            "ORDER BY id DESC LIMIT :limit OFFSET :offset"
        ),
        {"limit": limit, "offset": offset},
    ).all()
    return [
        ReplayRun(
            id=r.id,
            started_at=r.started_at,
            finished_at=r.finished_at,
            reason=r.reason,
            dataset=r.dataset,
            partner=r.partner,
            topics=list(r.topics),
            end_offsets=dict(r.end_offsets),
            run_by=r.run_by,
            protocols=list(r.protocols),
            counts=(
                ReplayCounts(r.messages, r.released, r.withheld, r.retracted, r.dead_lettered)
                if r.finished_at is not None
                else None
            ),
        )
        for r in rows
    ]
