"""`hub retention run`: delete events past the retention their protocols set, and record what was deleted."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session


def run_retention(session: Session, today: date) -> dict[str, int]:
    """Delete events whose retain_until is before `today`; returns (and records) the count per dataset."""
    deleted = session.execute(
        text("DELETE FROM event WHERE retain_until < :today RETURNING dataset"), {"today": today}
    ).scalars()
    counts: dict[str, int] = {}
    for dataset in deleted:
        counts[dataset] = counts.get(dataset, 0) + 1
    for dataset, count in sorted(counts.items()):
        session.execute(
            text("INSERT INTO retention_run (today, dataset, deleted) VALUES (:t, :d, :n)"),
            {"t": today, "d": dataset, "n": count},
        )
    return counts
