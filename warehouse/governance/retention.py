"""`hub retention run`: delete events past the retention their protocols set, and record what was deleted."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session


def run_retention(session: Session, today: date) -> dict[str, int]:
    """Delete events whose retain_until is before `today`; returns (and records) the count per dataset.

    Deleted events are remembered in `retired_event`, so re-publishing them cannot bring them back.
    """
    deleted = session.execute(
        text("DELETE FROM event WHERE retain_until < :today RETURNING event_id, dataset"), {"today": today}
    ).all()
    counts: dict[str, int] = {}
    for _, dataset in deleted:
        counts[dataset] = counts.get(dataset, 0) + 1
    if deleted:
        session.execute(
            text("INSERT INTO retired_event (event_id) SELECT unnest(CAST(:ids AS uuid[])) ON CONFLICT DO NOTHING"),
            {"ids": [str(event_id) for event_id, _ in deleted]},
        )
    for dataset, count in sorted(counts.items()):
        session.execute(
            text("INSERT INTO retention_run (today, dataset, deleted) VALUES (:t, :d, :n)"),
            {"t": today, "d": dataset, "n": count},
        )
    return counts
