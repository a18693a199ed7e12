"""`hub dq`: the per-feed data-quality report, as tables or JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import ProgrammingError

from deploy.protocol_files import configured_register
from deploy.settings import warehouse_settings
from warehouse.queries.quality import DEFAULT_LATE_DAYS, FeedQuality, QualityReport, feed_quality, report_json
from warehouse.schema.db import session_scope


def _when(value: str | None, option: str) -> datetime | None:
    """An ISO date or timestamp option as an aware datetime (UTC when no offset is given)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("must be an ISO date or timestamp", param_hint=option) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{share:.1%}"


def _feed_table(feed: FeedQuality, late_days: int) -> Table:
    """One feed's figures as a two-column table."""
    volume = feed.volume
    table = Table(title=f"{feed.dataset} from {feed.partner}: {volume.status}", title_justify="left", show_header=False)
    table.add_column("measure", style="bold")
    table.add_column("value")
    table.add_row("protocols in force", ", ".join(feed.protocols) or "-")
    events = f"{feed.events} ({feed.versions} versions, {feed.decisions} decisions)" if feed.events else "none"
    table.add_row("events", events)
    table.add_row("released / withheld", f"{feed.released} / {feed.withheld}")
    table.add_row("retracted / dead-lettered", f"{feed.retracted} / {feed.dead_lettered}")
    for item in feed.completeness:
        table.add_row(f"filled in: {item.field}", f"{_pct(item.share)} ({item.present})")
    table.add_row("geocodable", f"{_pct(feed.geocodable_share)} ({feed.geocodable})")
    table.add_row("duplicates", f"{feed.duplicates} extra copies in {feed.duplicate_groups} groups")
    table.add_row(f"late (> {late_days} days)", f"{_pct(feed.late_share)} ({feed.late})")
    table.add_row("last seen", volume.last_seen.isoformat(timespec="seconds") if volume.last_seen else "never")
    table.add_row("last 7 days / usual week", f"{volume.last_7_days} / {volume.usual_weekly:g}")
    return table


def print_report(report: QualityReport, console: Console) -> None:
    """The report as one table per feed."""
    if not report.feeds:
        console.print("no feeds")
    for feed in report.feeds:
        console.print(_feed_table(feed, report.late_days))


def dq(
    dataset: Annotated[str | None, typer.Option(help="only this dataset")] = None,
    partner: Annotated[str | None, typer.Option(help="only this partner")] = None,
    late_days: Annotated[
        int, typer.Option(min=0, help="a record is late when it arrives more than this many days after it ended")
    ] = DEFAULT_LATE_DAYS,
    since: Annotated[str | None, typer.Option(help="only decisions from this time (ISO date or timestamp)")] = None,
    until: Annotated[str | None, typer.Option(help="only decisions before this time (ISO date or timestamp)")] = None,
    now: Annotated[str | None, typer.Option(help="as if at this time (ISO timestamp; default: now)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Data quality per feed (dataset x partner): completeness, geocoding, duplicates, late records, volume."""
    at = _when(now, "--now") or datetime.now(UTC)
    start, end = _when(since, "--since"), _when(until, "--until")
    try:
        with session_scope(warehouse_settings().url) as session:
            report = feed_quality(
                session,
                configured_register(),
                at,
                dataset=dataset,
                partner=partner,
                since=start,
                until=end,
                late_days=late_days,
            )
    except ProgrammingError as exc:  # e.g. a warehouse not yet upgraded to the data-quality columns (0005)
        typer.echo(
            f"the warehouse cannot answer ({type(exc.orig).__name__}); is it at `hub db upgrade`'s head?", err=True
        )
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(report_json(report), indent=2))
    else:
        print_report(report, Console())
