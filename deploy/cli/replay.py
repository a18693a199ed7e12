"""`hub replay`: re-derive the warehouse from what partners published, after a protocol or boundary change."""

from __future__ import annotations

import getpass
import time
from datetime import UTC, datetime
from typing import Annotated

import typer
from aiokafka.errors import KafkaError as AIOKafkaError
from kafka.errors import KafkaError as KafkaPythonError
from rich.console import Console

from deploy.cli.progress import progress_bar
from deploy.cli.protocols import register_or_exit
from deploy.cli.worker import warehouse_loader
from deploy.settings import (
    BrokerCredentialsError,
    KafkaSettings,
    WorkerSettingsError,
    warehouse_settings,
    worker_settings,
)
from deploy.topics import partner_topics
from sharing_protocols.catalogue import CATALOGUE
from sharing_protocols.topics import partner_topic, topic_source
from stream_processors.replay import extents, label, replay
from warehouse.governance.replays import ReplayCounts, ReplayScope, finish_replay, start_replay
from warehouse.schema.db import session_scope

console = Console(stderr=True, soft_wrap=True)

EXIT_NOTHING = 1  # no partner topic in the scope, or the replay stopped part-way
EXIT_UNUSABLE = 2  # bad options, no credential, or the protocol register cannot be read
EXIT_BROKER = 3  # the broker refused the worker's credential or did not answer


def _run_by() -> str:
    """Who runs the replay: the operating-system account (as the IG record of an operator's action)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def _say(text: str) -> None:
    console.print(text, markup=False, highlight=False)


def replay_command(
    reason: Annotated[
        str, typer.Option(help='why, for the IG record: e.g. "protocol police-to-csp-analysts@2 drops field x"')
    ],
    dataset: Annotated[str | None, typer.Option(help="only this dataset's topics")] = None,
    partner: Annotated[str | None, typer.Option(help="only this partner's topics")] = None,
) -> None:
    """Re-derive the warehouse from the partner topics (all, or one dataset's and/or one partner's) under the
    protocol register and boundaries now configured.

    Each partition is read from its start to its end when the replay began, without a consumer group (the running
    worker's offsets are untouched), through the worker's own loader, as the worker's broker principal and database
    role. Every message gets a new decision naming this replay; a stored version from a later offset is never
    replaced, retired events stay retired and fields removed by retention stay removed. The run is recorded (reason,
    scope, who, protocol versions in force, counts) in `replay_run`. Only what the topics still hold can be
    re-derived (HUB_KAFKA_RETENTION_DAYS; docs/replay.md).

    Exit codes: 0 replayed; 1 no partner topic in the scope, or stopped part-way (the record keeps no finish);
    2 bad options, no credential or no readable protocol register; 3 the broker refused or did not answer.
    """
    if not reason.strip():
        raise typer.BadParameter("give the reason for the IG record", param_hint="--reason")
    if dataset is not None and dataset not in CATALOGUE:
        raise typer.BadParameter(f"no dataset {dataset!r} in the catalogue", param_hint="--dataset")
    try:
        settings = worker_settings()
    except (BrokerCredentialsError, WorkerSettingsError) as exc:
        _say(str(exc))
        raise typer.Exit(EXIT_UNUSABLE) from None
    any_dataset = next(iter(CATALOGUE))
    if (
        partner is not None
        and topic_source(settings.topic_prefix, partner_topic(settings.topic_prefix, any_dataset, partner)) is None
    ):
        raise typer.BadParameter(f"{partner!r} is not a partner id", param_hint="--partner")
    register = register_or_exit("nothing was replayed")
    kafka = KafkaSettings()
    try:
        listed = partner_topics(kafka, settings.broker)
        sources = {topic: topic_source(settings.topic_prefix, topic) for topic in listed}
        topics = [
            topic
            for topic, source in sources.items()
            if source is not None and dataset in (None, source.dataset) and partner in (None, source.partner)
        ]
        if not topics:
            _say("no partner topic on the broker in that scope: nothing was replayed")
            raise typer.Exit(EXIT_NOTHING)
        reach = extents(settings.broker, topics)
    except (KafkaPythonError, AIOKafkaError, OSError) as exc:
        _say(f"the broker at {settings.broker.servers} refused {settings.broker.username} or did not answer "
             f"({type(exc).__name__}): nothing was replayed")  # fmt: skip
        raise typer.Exit(EXIT_BROKER) from None
    protocols = [p.label for p in register.active_at(datetime.now(UTC).date())]
    offsets = {label(tp): extent.end for tp, extent in reach.items()}
    owner = warehouse_settings().url  # the record is the operator's; the loading is the worker's role
    with session_scope(owner) as session:
        replay_id = start_replay(session, reason, ReplayScope(dataset, partner), offsets, _run_by(), protocols)
    loader = warehouse_loader(settings, register, replay_id)
    total = sum(extent.messages for extent in reach.values())
    started = time.perf_counter()
    try:
        with progress_bar(console) as bar:
            task = bar.add_task(f"replay {replay_id}: {len(topics)} topic(s)", total=total)
            counts = replay(
                settings.broker,
                reach,
                loader,
                settings.batch_size,
                lambda done: bar.update(task, completed=done.messages),
            )
    except Exception as exc:  # the type only: a database error's text may quote a value
        _say(f"replay {replay_id} stopped part-way ({type(exc).__name__}); its record has no finish or counts")
        raise typer.Exit(EXIT_NOTHING) from None
    seconds = time.perf_counter() - started
    with session_scope(owner) as session:
        finish_replay(session, replay_id, counts)
    _report(replay_id, topics, counts, seconds)


def _report(replay_id: int, topics: list[str], counts: ReplayCounts, seconds: float) -> None:
    rate = counts.messages / seconds if seconds > 0 else 0.0
    _say(
        f"replay {replay_id}: {counts.messages} messages from {len(topics)} topic(s) in {seconds:.1f} s "
        f"({rate:,.0f} events/s): {counts.released} loaded, {counts.withheld} withheld by protocol, "
        f"{counts.retracted} retracted, {counts.dead_lettered} dead-lettered"
    )
