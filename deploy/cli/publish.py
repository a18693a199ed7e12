"""`hub publish FEED FILE`: validate and publish a partner export; `hub linkage-key DOMAIN`: make a key."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from kafka.errors import KafkaError
from rich.console import Console

from broker_access.credentials import BrokerAccess
from deploy.cli.progress import progress_bar
from deploy.protocol_files import configured_register
from deploy.settings import (
    BrokerCredentialsError,
    KafkaSettings,
    broker_access,
    linkage_key_variables,
    producer_settings,
)
from deploy.topics import TopicUnavailableError, ensure_publishing_topic
from producers.anonymisation.linkage_keys import LinkageKeyError, new_key
from producers.code_lists import CodeListError
from producers.csv_source import EXTRA_COLUMNS_OPTION, SourceFileError
from producers.feed import Feed
from producers.feed_registry import UnknownDatasetError, get_feed
from producers.publish import PublishSummary
from producers.publisher import Outbound, Publisher
from producers.row_process import RowProcessEnded, publish_rows
from producers.source_options import build_source_options
from sharing_protocols.topics import topic_source

console = Console(stderr=True, soft_wrap=True)

MAX_ERRORS_SHOWN = 50
PROGRESS_EVERY = 1000


# `hub publish` exit codes (documented in its --help and docs/feeds.md).
EXIT_REJECTED = 1  # the file was read to its end, but some rows were rejected
EXIT_UNUSABLE = 2  # the file, the partner's keys or the topic cannot be used: nothing was sent
EXIT_UNDELIVERED = 3  # the broker refused the credential or did not acknowledge every event
EXIT_BROKEN = 4  # the file broke part-way (or its row process ended): rows after it not attempted


def _report(summary: PublishSummary, delivered: int, failed: list[str]) -> None:
    console.print(
        f"{summary.file}: {summary.read} rows read, {summary.published} published, {summary.retracted} retracted "
        f"({delivered} acknowledged by the broker), {summary.duplicates} exact duplicates skipped, "
        f"{summary.rejected} rejected, {summary.not_attempted} not attempted",
        markup=False,
        highlight=False,
    )
    if summary.ignored_columns:
        ignored = ", ".join(map(repr, summary.ignored_columns))
        console.print(f"  columns not in the feed's schema, ignored: {ignored}", markup=False, highlight=False)
    for reason, count in summary.rejected_by_reason().most_common():
        console.print(f"  rejected {count:>6} x {reason}", markup=False, highlight=False)
    for error in summary.errors[:MAX_ERRORS_SHOWN]:
        console.print(f"  {error}", markup=False, highlight=False)
    if summary.rejected > MAX_ERRORS_SHOWN:
        console.print(f"  ... and {summary.rejected - MAX_ERRORS_SHOWN} more")
    if summary.broken is not None:
        console.print(f"  the file broke: {summary.broken}", markup=False, highlight=False)
    if failed:
        console.print(f"  [red]{len(failed)} events were not delivered: {sorted(set(failed))}[/red]")


def row_process_ended(file: Path, ended: RowProcessEnded, delivered: int) -> str:
    """The one line for a file whose row process ended part-way: how many events the broker acknowledged, up to
    which source row."""
    upto = f"up to row {ended.last_row}" if ended.last_row is not None else "none"
    acknowledged = (
        f"{delivered} events acknowledged by the broker ({upto})"
        if delivered == ended.sent
        else f"{delivered} of the {ended.sent} events sent ({upto}) acknowledged by the broker"
    )
    return (
        f"{file}: the process reading its rows {ended.how}: {acknowledged}; the rows after it were not "
        "attempted (publish the file again: events already sent keep their ids)"
    )


def exit_code(summary: PublishSummary, failed: list[str]) -> int:
    """0 only when every row read was published (and the file read to its end); else the worst loss's code."""
    if failed:
        return EXIT_UNDELIVERED
    if summary.broken is not None:
        return EXIT_BROKEN
    return EXIT_REJECTED if summary.errors else 0


def feed_argument(name: str) -> Feed[Any]:
    """The feed the FEED argument names, or typer.BadParameter."""
    try:
        return get_feed(name)
    except UnknownDatasetError as exc:
        raise typer.BadParameter(str(exc.args[0]), param_hint="FEED") from None


def publishing_topic(kafka: KafkaSettings, dataset: str, partner: str, access: BrokerAccess | None = None) -> str:
    """The partner topic `partner` publishes `dataset` on, once it exists; when it is missing and cannot be created
    with the credential in use (`access`, default the operator's), one line saying so and exit 2 (rather than a
    producer waiting on the broker)."""
    topic = kafka.partner_topic(dataset, partner)
    if topic_source(kafka.topic_prefix, topic) is None:
        raise typer.BadParameter(
            f"{partner!r} is not a partner id (lower-case letters, digits and hyphens)", param_hint="--partner"
        )
    try:
        ensure_publishing_topic(kafka, topic, access)
    except TopicUnavailableError as exc:
        console.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(EXIT_UNUSABLE) from None
    return topic


def _domains(values: list[str]) -> dict[str, str]:
    pairs = {}
    for value in values:
        field, sep, domain = value.partition("=")
        if not sep or not field or not domain:
            raise typer.BadParameter(f"expected FIELD=DOMAIN, got {value!r}", param_hint="--domain")
        pairs[field.strip()] = domain.strip()
    return pairs


def publish(
    feed: Annotated[str, typer.Argument(help="dataset name, e.g. police-uk-street")],
    file: Annotated[Path, typer.Argument(help="the partner's export file (CSV, or XML where the feed has one)")],
    partner: Annotated[str | None, typer.Option(help="publishing partner id (default: the feed's)")] = None,
    keys: Annotated[
        Path | None, typer.Option(help="linkage key file, 'domain = secret' lines (or HUB_PRODUCER_KEYS_FILE)")
    ] = None,
    domain: Annotated[
        list[str] | None, typer.Option(help="FIELD=DOMAIN: put a pseudonym field in another linkage domain")
    ] = None,
    code_lists: Annotated[
        Path | None, typer.Option(help="directory of <list>.csv code lists (or HUB_PRODUCER_CODE_LISTS_DIR)")
    ] = None,
    allow_extra_columns: Annotated[
        bool,
        typer.Option(
            EXTRA_COLUMNS_OPTION, help="leave out columns (XML elements) the feed does not know instead of refusing"
        ),
    ] = False,
) -> None:
    """Validate FILE row by row against FEED's schema, anonymise it, and publish one event per valid row.

    The summary counts the rows read, published, retracted, exact duplicates skipped, rejected and not attempted.
    Each rejected row is named by file, row and field; a break in the file by line and row.
    FILE is UTF-8, with or without a byte order mark; a UTF-16 file is refused (export it as UTF-8). A column
    the feed does not know is refused (an XML element: its record), naming it, unless --allow-extra-columns.
    A cell over 1 MiB, or an event over HUB_PRODUCER_MAX_MESSAGE_BYTES (the broker's limit), rejects its row.

    Exit codes:
    0 every row read was published;
    1 rows were rejected;
    2 the file, the keys or the topic cannot be used (nothing was sent);
    3 the broker refused the credential or did not acknowledge every event;
    4 the file broke part-way, or the process working on its rows ended (the rows after were not attempted).
    """
    spec = feed_argument(feed)
    base = producer_settings()
    settings = base.model_copy(
        update={"keys_file": keys or base.keys_file, "code_lists_dir": code_lists or base.code_lists_dir}
    )
    publisher_id = partner or spec.default_partner
    try:
        options = build_source_options(
            spec,
            publisher_id,
            settings=settings,
            domains=_domains(domain or []),
            register=configured_register(),
            environ=linkage_key_variables(),
            extra_columns=allow_extra_columns,
        )
    except (LinkageKeyError, CodeListError) as exc:
        console.print(f"[red]{exc}[/red]", markup=True)
        raise typer.Exit(EXIT_UNUSABLE) from None
    kafka = KafkaSettings()
    try:
        access = broker_access("admin")  # HUB_KAFKA_USERNAME/PASSWORD (a partner's), else the embedded hub-admin
    except BrokerCredentialsError as exc:
        console.print(str(exc), markup=False)
        raise typer.Exit(EXIT_UNUSABLE) from None
    try:
        topic = publishing_topic(kafka, spec.name, publisher_id, access)
        publisher_client = Publisher(access, max_message_bytes=options.max_message_bytes)
    except KafkaError as exc:
        console.print(
            f"the broker at {access.servers} refused {access.username} or did not answer ({type(exc).__name__}): "
            "check HUB_KAFKA_USERNAME, HUB_KAFKA_PASSWORD and HUB_KAFKA_CA_FILE; a partner may write only the "
            "topics `hub partners add` gave it",
            markup=False,
        )
        raise typer.Exit(EXIT_UNDELIVERED) from None
    with (
        publisher_client as publisher,
        progress_bar(console) as progress,
    ):
        task = progress.add_task(f"publishing {file.name}", total=None)
        sent = 0

        def send(message: Outbound, row: int) -> None:
            nonlocal sent
            publisher.send(topic, message, row)
            sent += 1
            if sent % PROGRESS_EVERY == 0:
                progress.update(task, completed=sent)

        ended: RowProcessEnded | None = None
        try:
            summary = publish_rows(spec, file, options, send)
        except SourceFileError as exc:
            console.print(str(exc), markup=False, highlight=False)
            raise typer.Exit(EXIT_UNUSABLE) from None
        except RowProcessEnded as exc:
            ended = exc
        publisher.flush()
    if ended is not None:
        console.print(row_process_ended(file, ended, publisher.delivered), markup=False, highlight=False)
        raise typer.Exit(EXIT_BROKEN)
    for row in publisher.too_large:
        summary.refused_by_broker(row)
    _report(summary, publisher.delivered, publisher.failed)
    console.print(f"  event ids made under id scheme {options.id_scheme}", markup=False, highlight=False)
    code = exit_code(summary, publisher.failed)
    if code:
        raise typer.Exit(code)


def linkage_key(domain: Annotated[str, typer.Argument(help="linkage domain, e.g. person-east-sussex")]) -> None:
    """Print a new random key line for DOMAIN, to give to every partner that links within it."""
    typer.echo(f"{domain} = {new_key()}")
