"""`hub retention run`: remove fields and events past the retention of the clauses that released them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import typer

from deploy.settings import warehouse_settings
from warehouse.governance.retention import run_field_retention
from warehouse.schema.db import session_scope

retention = typer.Typer(help="Retention of events under their protocols.", no_args_is_help=True)


@retention.command("run")
def run(today: Annotated[str | None, typer.Option(help="as if on this date (YYYY-MM-DD)")] = None) -> None:
    """Remove each field no clause holds any more (pseudonyms first), then delete events none of their clauses
    holds; record both in the retention log."""
    try:
        day = date.fromisoformat(today) if today else datetime.now(UTC).date()
    except ValueError:
        typer.echo(f"--today: {today!r} is not a date (YYYY-MM-DD)", err=True)
        raise typer.Exit(2) from None
    with session_scope(warehouse_settings().url) as session:
        counts, fields = run_field_retention(session, day)
    for (dataset, name), count in fields.items():
        typer.echo(f"removed {name} from {count} {dataset} events")
    for dataset, count in sorted(counts.items()) or [("(none)", 0)]:
        typer.echo(f"deleted {count} {dataset} events retained until before {day}")
