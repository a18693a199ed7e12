"""The embedded local services behind `hub up` / `hub down`: a KRaft Kafka broker and PostgreSQL + PostGIS.

A service whose HUB_KAFKA_BOOTSTRAP / HUB_DATABASE_URL is set is external and never started or stopped here.
Everything lives under HUB_LOCAL_HOME (default .hub): kafka/, postgres/ and run/*.pid for the worker and api.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from kafka.errors import KafkaError

from deploy.broker_principals import BrokerAdmin, PrincipalError, ensure_worker, worker_principal
from deploy.home_secrets import ensure_credential, kafka_worker_file, secrets_dir
from deploy.local import processes
from deploy.local.home import Service
from deploy.local.kafka_broker import KafkaBroker
from deploy.local.postgres import PostgresServer, create_database, drop_database
from deploy.local.processes import LocalInfraError
from deploy.settings import DatabaseSettings, KafkaSettings, LocalSettings
from deploy.topics import ensure_topics

__all__ = [
    "LocalInfraError",
    "create_database",
    "down",
    "drop_database",
    "ensure_up",
    "run_dir",
    "status",
    "up",
]

APP_SERVICES = ("worker", "api")


def run_dir() -> Path:
    """<home>/run: pidfiles of the hub's own processes (worker.pid, api.pid)."""
    return LocalSettings().home.resolve() / "run"


@contextlib.contextmanager
def _lock() -> Iterator[None]:
    """Serialise up/down across processes (e.g. the CLI and a test session starting at once)."""
    directory = run_dir()
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "local.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _services() -> list[tuple[str, str | None, Service]]:
    """Each embedded service in start order: its name, where it is when external (else None), its manager."""
    local = LocalSettings()
    kafka, database = KafkaSettings(), DatabaseSettings()
    return [
        ("postgres", _redacted(database.resolved_url) if database.external else None, PostgresServer(local)),
        ("kafka", kafka.servers if kafka.external else None, KafkaBroker(local)),
    ]


def _prepare_kafka(broker: KafkaBroker) -> str:
    """On the embedded broker: the worker principal of the configured topic prefix (its password kept in the home
    secrets, for `hub worker`) with its ACLs, and the hub's topics."""
    kafka = KafkaSettings()
    prefix = kafka.topic_prefix
    worker = ensure_credential(secrets_dir(broker.settings.home), kafka_worker_file(prefix), worker_principal(prefix))
    access = broker.admin_access()
    try:
        with BrokerAdmin(access, client_id="hub-up") as admin:
            ensure_worker(admin, prefix, worker.password.get_secret_value())
        ensure_topics(kafka, access=access)
    except (KafkaError, PrincipalError) as exc:
        raise LocalInfraError(
            f"kafka: the worker principal or the topics of {prefix!r} could not be made: {exc!r}"
        ) from None
    return f"kafka: worker principal {worker.username} and the {prefix!r} topics ready"


def _up() -> tuple[list[str], bool]:
    lines: list[str] = []
    started = False
    with _lock():
        for name, external, service in _services():
            if external is not None:
                lines.append(f"{name}: external ({external}), not managed")
                continue
            was_running = service.is_running()
            lines.append(service.start())
            started |= not was_running
            if isinstance(service, KafkaBroker):
                lines.append(_prepare_kafka(service))
    return lines, started


def up() -> list[str]:
    """Start the embedded Kafka and PostgreSQL unless external or already running; say what happened."""
    return _up()[0]


def ensure_up() -> bool:
    """Like up(); True if it started anything (so the caller knows whether to stop things afterwards)."""
    return _up()[1]


def _app_pidfiles() -> list[Path]:
    found = sorted(run_dir().glob("*.pid"))
    first = [run_dir() / f"{name}.pid" for name in APP_SERVICES]
    return [p for p in first if p in found] + [p for p in found if p not in first]


def down() -> list[str]:
    """Stop the hub's processes (<home>/run/*.pid), then the embedded Kafka and PostgreSQL unless external."""
    lines: list[str] = []
    with _lock():
        for pidfile in _app_pidfiles():
            lines.append(f"{pidfile.stem}: {processes.stop(pidfile, timeout=15)}")
        for name, external, service in reversed(_services()):
            lines.append(f"{name}: external, left running" if external is not None else service.stop())
    return lines


def _app_status(name: str) -> str:
    pidfile = run_dir() / f"{name}.pid"
    pid = processes.read_pid(pidfile)
    if pid is None:
        return "stopped"
    if processes.pid_alive(pid):
        return f"running (pid {pid})"
    return f"stopped (stale pidfile {pidfile})"


def status() -> dict[str, str]:
    """One short state string per service: kafka, postgres, worker, api."""
    result = {
        name: f"external ({external})" if external is not None else service.status()
        for name, external, service in reversed(_services())
    }
    for name in APP_SERVICES:
        result[name] = _app_status(name)
    return result
