"""`hub worker`: run the warehouse loader."""

from __future__ import annotations

import logging

import faust
import typer

from deploy.group_membership import leave_as_static_member
from deploy.lag import LagReader
from deploy.protocol_files import configured_register
from deploy.settings import (
    BrokerCredentialsError,
    KafkaSettings,
    WorkerSettingsError,
    geocoder_settings,
    warehouse_settings,
    worker_settings,
)
from deploy.topics import BrokerRefusedError, wait_for_partner_topics
from sharing_protocols.decision import ProtocolRegister
from stream_processors.app import create_app
from stream_processors.batch import freeze_start_up_heap
from stream_processors.faust_logs import quieten_faust
from stream_processors.loader import Loader
from stream_processors.settings import WorkerSettings
from stream_processors.worker_metrics import WorkerMetrics
from stream_processors.worker_signals import WorkerSignals, serve_signals, watch_lag
from warehouse.reference.geocoder_data import geocoder_from_warehouse
from warehouse.schema.db import ask_once
from warehouse.sink import WarehouseSink


def warehouse_loader(settings: WorkerSettings, register: ProtocolRegister, replay_id: int | None = None) -> Loader:
    """The loader `hub worker` runs (and `hub replay`, whose decisions name `replay_id`): the worker's database
    role, the configured vintages and `register`."""
    url = warehouse_settings("worker").url  # the loader's least-privileged role
    geo = geocoder_settings()
    geocoder = geocoder_from_warehouse(geo.ward_vintage, geo.lsoa_vintage, geo.lookup_vintage, url)
    sink = WarehouseSink(url, replay_id)
    loader = Loader(settings.topic_prefix, geocoder, sink, settings.retry_max_seconds, register)
    freeze_start_up_heap()  # the geocoder and the register are built: later collections skip them
    return loader


def start_signals(settings: WorkerSettings, kafka: KafkaSettings) -> WorkerMetrics:
    """Watch the loader's lag (read as the worker's principal; warnings on a broker outage or a stall) and, with
    HUB_WORKER_METRICS_PORT set, serve the probes on HUB_WORKER_METRICS_HOST (the database asked as the worker's
    role)."""
    metrics = WorkerMetrics()
    url = warehouse_settings("worker").url
    signals = WorkerSignals(
        metrics,
        read_lag=LagReader(kafka, settings.broker).read,
        ask_database=lambda: ask_once(url, timeout=2.0),
        max_lag=settings.ready_lag,
    )
    watch_lag(signals)
    if settings.metrics_port:
        serve_signals(signals, settings.metrics_host, settings.metrics_port)
    return metrics


def worker() -> None:
    """Consume every partner topic (those created later too) and load the warehouse until stopped (Ctrl-C or
    SIGTERM). With no partner topic on the broker yet, wait for the first.

    With HUB_WORKER_INSTANCE_ID it is a static member of its group: killed, its partitions wait for it to come back
    with the same id (within HUB_WORKER_SESSION_TIMEOUT_SECONDS); stopped on request, it leaves the group
    (deploy.group_membership).

    Its lag is watched (a warning once per broker outage and per stall); with HUB_WORKER_METRICS_PORT set,
    /healthz, /readyz and /metrics are served on it (stream_processors.worker_signals).

    The worker signs in as its own principal (`<prefix>.worker`), which may read the partner topics and write the
    dead-letter topic but create none: `hub up` (or the cluster's operator) makes the topics and the principal.
    """
    try:
        settings = worker_settings()
    except (BrokerCredentialsError, WorkerSettingsError) as exc:  # a bad setting: its name and rule, never its value
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    quieten_faust()
    # kafka-python serves only the lag watch and the topics wait here: its connection chatter at INFO says nothing
    # the worker's own lines do not; its warnings and errors stay.
    logging.getLogger("kafka").setLevel(logging.WARNING)
    loader = warehouse_loader(settings, configured_register())
    kafka = KafkaSettings()
    metrics = start_signals(settings, kafka)
    try:
        topics = wait_for_partner_topics(kafka, settings.topic_refresh_seconds, settings.broker)
    except BrokerRefusedError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    app = create_app(settings, loader, topics, metrics)
    running = faust.Worker(app, loglevel=settings.log_level, quiet=True)
    try:
        running.execute_from_commandline()
    finally:  # faust has stopped: every batch handed over is committed, the consumer closed
        if settings.instance_id is not None and running.crash_reason is None and app.crash_reason is None:
            leave_as_static_member(settings.broker, settings.group, settings.instance_id)
