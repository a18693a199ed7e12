"""`hub publish FEED FILE`: validate and publish a partner export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from deploy.settings import get_kafka_settings
from deploy.topics import ensure_topics
from producers.csv_source import SourceFileError
from producers.publish import PublishSummary, publish_file
from producers.publisher import Publisher
from sharing_protocols.catalogue import UnknownDatasetError, get_dataset
from sharing_protocols.envelope import EventEnvelope

console = Console(stderr=True, soft_wrap=True)

MAX_ERRORS_SHOWN = 50
PROGRESS_EVERY = 1000


def _report(summary: PublishSummary, delivered: int, failed: list[str]) -> None:
    console.print(
        f"{summary.file}: {summary.read} rows read, {summary.published} published "
        f"({delivered} acknowledged by the broker), {summary.rejected} rejected"
    )
    for reason, count in summary.rejected_by_reason().most_common():
        console.print(f"  rejected {count:>6} x {reason}")
    for error in summary.errors[:MAX_ERRORS_SHOWN]:
        console.print(f"  {error}", markup=False)
    if summary.rejected > MAX_ERRORS_SHOWN:
        console.print(f"  ... and {summary.rejected - MAX_ERRORS_SHOWN} more")
    if failed:
        console.print(f"  [red]{len(failed)} events were not delivered: {sorted(set(failed))}[/red]")


def publish(
    feed: Annotated[str, typer.Argument(help="dataset name, e.g. police-uk-street")],
    file: Annotated[Path, typer.Argument(help="the partner's export file")],
    partner: Annotated[str | None, typer.Option(help="publishing partner id (default: the feed's)")] = None,
) -> None:
    """Validate FILE row by row against FEED's schema and publish one event per valid row."""
    try:
        spec = get_dataset(feed)
    except UnknownDatasetError as exc:
        raise typer.BadParameter(str(exc.args[0]), param_hint="FEED") from None
    kafka = get_kafka_settings()
    topic = kafka.topic(spec.name)
    ensure_topics(kafka, [topic])
    with (
        Publisher(kafka.servers) as publisher,
        Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress,
    ):
        task = progress.add_task(f"publishing {file.name}", total=None)

        sent = 0

        def send(envelope: EventEnvelope) -> None:
            nonlocal sent
            publisher.send(topic, envelope)
            sent += 1
            if sent % PROGRESS_EVERY == 0:
                progress.update(task, completed=sent)

        try:
            summary = publish_file(spec, file, partner or spec.default_partner, send)
        except SourceFileError as exc:
            console.print(f"[red]{exc}[/red]", markup=True)
            raise typer.Exit(2) from None
        publisher.flush()
    _report(summary, publisher.delivered, publisher.failed)
    if publisher.failed:
        raise typer.Exit(3)
    if summary.rejected:
        raise typer.Exit(1)
