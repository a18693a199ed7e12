"""`hub retention run`: delete events past their protocol's retention period."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import typer

from deploy.settings import warehouse_settings
from warehouse.governance.retention import run_retention
from warehouse.schema.db import session_scope

retention = typer.Typer(help="Retention of events under their protocols.", no_args_is_help=True)


@retention.command("run")
def run(today: Annotated[str | None, typer.Option(help="as if on this date (YYYY-MM-DD)")] = None) -> None:
    """Delete events past their protocol's retention period and record what was deleted."""
    day = date.fromisoformat(today) if today else datetime.now(UTC).date()
    with session_scope(warehouse_settings().url) as session:
        counts = run_retention(session, day)
    for dataset, count in sorted(counts.items()) or [("(none)", 0)]:
        typer.echo(f"deleted {count} {dataset} events retained until before {day}")
