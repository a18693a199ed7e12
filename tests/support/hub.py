"""The hub environment for integration tests: real Kafka and PostGIS, an isolated hub on them, the API client over
it, and `hub worker` as a real subprocess.

Order of preference for the services: HUB_KAFKA_BOOTSTRAP / HUB_DATABASE_URL when set; testcontainers when a Docker
engine answers; otherwise the embedded services of `hub up`. Failing to get a broker or database fails the tests
(never skips them).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from kafka import KafkaAdminClient
from kafka.errors import KafkaError
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, text

from api.factory import create_app
from api.settings import ApiSettings
from broker_access.credentials import BrokerAccess
from deploy import local
from deploy.broker_principals import (
    BrokerAdmin,
    add_partner,
    ensure_worker,
    revoke_partner,
    worker_principal,
)
from deploy.home_secrets import new_password
from deploy.lag import wait_for_loader
from deploy.protocol_files import register_at
from deploy.settings import (
    EMBEDDED_DATABASE_ROLES,
    BrokerCredentialsError,
    DatabaseSettings,
    KafkaSettings,
    LocalSettings,
    broker_access,
)
from deploy.topics import ensure_topics, protocol_topics
from geography.settings import GeocoderSettings
from sharing_protocols.decision import ProtocolRegister
from stream_processors.settings import loader_group
from tests.support.open_data import SHARED_DATA
from tests.support.reference_data import WARDS_2024_AREAS, load_reference
from warehouse.governance.keys import create_key
from warehouse.schema import migrate
from warehouse.schema.db import session_scope
from warehouse.schema.privileges import grant_runtime_roles
from warehouse.settings import WarehouseSettings

# The suite's shared app answers thousands of requests a minute from one address; rate limits are tested on apps of
# their own (tests/integration/test_hostile_input.py).
UNLIMITED = ApiSettings(key_requests_per_minute=10**9, address_requests_per_minute=10**9)


def _docker_available() -> bool:
    try:
        import docker

        docker.from_env().ping()
        return True
    except Exception:
        return False


@dataclass(frozen=True)
class Services:
    """Where the real broker and database are for this test session, and the operator's access to the broker."""

    kafka_bootstrap: str | None
    database_url: str | None
    kafka_admin: BrokerAccess  # HUB_KAFKA_USERNAME/PASSWORD (an admin) on an external broker, else hub-admin


def _database_container(stack: ExitStack) -> str:
    """A PostGIS container's URL, set as HUB_DATABASE_URL for the session (so `hub up` starts only Kafka)."""
    from testcontainers.postgres import PostgresContainer

    url: str = stack.enter_context(PostgresContainer("postgis/postgis:15-3.4", driver="psycopg")).get_connection_url()
    os.environ["HUB_DATABASE_URL"] = url
    stack.callback(os.environ.pop, "HUB_DATABASE_URL", None)
    return url


def services_of_own(xdist_worker: str | None) -> dict[str, str]:
    """The HUB_LOCAL_* settings that give pytest-xdist's process `xdist_worker` (gw0, gw1, ...) an embedded broker
    and database of its own: the first keeps the configured ones, process n a home `<home>-gwn` and ports 10 * n
    above the configured ones, so that no test shares a service another process may be stopping or filling."""
    n = int(xdist_worker.removeprefix("gw")) if xdist_worker else 0
    if not n:
        return {}
    local = LocalSettings()
    return {
        "HUB_LOCAL_HOME": f"{local.home}-gw{n}",
        "HUB_LOCAL_KAFKA_PORT": str(local.kafka_port + 10 * n),
        "HUB_LOCAL_KAFKA_CONTROLLER_PORT": str(local.kafka_controller_port + 10 * n),
        "HUB_LOCAL_PG_PORT": str(local.pg_port + 10 * n),
    }


def start_services() -> Iterator[Services]:
    """Start (or find) the broker and the database; fail loudly when neither can be had.

    The broker is secured (SASL_SSL, SCRAM, ACLs) as the hub expects it: HUB_KAFKA_BOOTSTRAP with an admin's
    HUB_KAFKA_USERNAME/PASSWORD, else the embedded broker. A Docker engine provides only the database (a plain
    Kafka container would not be the broker the hub runs on).
    """
    with ExitStack() as stack:
        kafka_env, db_env = KafkaSettings().bootstrap, DatabaseSettings().url  # HUB_KAFKA_BOOTSTRAP, HUB_DATABASE_URL
        if db_env is None and _docker_available():
            db_env = _database_container(stack)
        try:
            started = local.ensure_up()
            admin = broker_access("admin")
        except (local.LocalInfraError, BrokerCredentialsError) as exc:
            pytest.fail(f"no Kafka broker or PostGIS database could be started or reached: {exc}")
        if started and os.environ.get("HUB_TEST_KEEP_SERVICES") is None:
            stack.callback(local.down)
        yield Services(kafka_env, db_env, admin)


@dataclass
class HubEnv:
    """An isolated hub: its own topic prefix and database on the shared services, and the parts composed for them.

    `env` holds the same settings as HUB_* variables, for the `hub` commands and the worker run as subprocesses;
    in-process code gets the parts themselves (engine, register, geography, the API app). The database has three
    URLs: the owner's (`database_url`: migrations, operator commands, the tests' own queries through `engine`),
    the worker's and the API's (the in-process API app connects as the API role, as `hub api` does). Operator
    commands sign in to the broker as the admin (`admin`, the default of `hub` commands); the worker as this hub's
    own worker principal, whose password is kept only here (`worker_env`, added to the worker subprocess alone).
    """

    prefix: str
    database_url: str
    worker_url: str
    api_url: str
    kafka: KafkaSettings
    env: dict[str, str]
    protocol_paths: list[Path]
    register: ProtocolRegister
    engine: Engine
    admin: BrokerAccess
    worker_env: dict[str, str] = field(default_factory=dict)
    geography: GeocoderSettings = field(default_factory=GeocoderSettings)
    _running: ExitStack = field(default_factory=ExitStack)
    _app: FastAPI | None = None
    _partners: set[str] = field(default_factory=set)

    @property
    def warehouse(self) -> WarehouseSettings:
        """The warehouse as its owner."""
        return WarehouseSettings(url=self.database_url)

    @property
    def api_warehouse(self) -> WarehouseSettings:
        """The warehouse as the API's role."""
        return WarehouseSettings(url=self.api_url)

    @property
    def app(self) -> FastAPI:
        """The API over this hub (its lifespan started on first use, ended with the module)."""
        if self._app is None:
            settings = UNLIMITED.model_copy(update={"topic_prefix": self.prefix})
            app = create_app(self.api_warehouse, self.register, self.geography, settings)
            self._running.enter_context(TestClient(app))
            self._app = app
        return self._app

    def reload_protocols(self) -> None:
        """Read the protocol files again, as a restarted API would: later API clients enforce them."""
        self.register = register_at(self.protocol_paths)
        self._app = None

    def client(self, headers: dict[str, str] | None = None) -> TestClient:
        """An in-process API client sending `headers` (none: the public, without a key)."""
        return TestClient(self.app, headers=headers)

    def api_client(self, org: str, role: str) -> TestClient:
        """An in-process API client carrying a real key issued for `org` in `role` (in this hub's database)."""
        with session_scope(self.engine) as session:
            token = create_key(session, org, role)
        return self.client({"Authorization": f"Bearer {token}"})

    def query(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        """The rows of `sql` (bound to `params`) in this hub's warehouse."""
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params).all()]

    def outcomes(self, dataset: str) -> tuple[dict[Any, tuple[Any, ...]], set[Any]]:
        """The dataset's loaded events (event id -> (category, period month)) and the ids of its withheld events."""
        loaded = {
            r[0]: r[1:]
            for r in self.query("SELECT event_id, category, period_month FROM event WHERE dataset = :d", d=dataset)
        }
        withheld = {
            r[0]
            for r in self.query("SELECT event_id FROM decision WHERE dataset = :d AND outcome = 'withheld'", d=dataset)
        }
        return loaded, withheld

    def partner(self, partner: str, datasets: list[str]) -> BrokerAccess:
        """A new principal for `partner` that may write its own topics of `datasets` (made now, as `hub partners
        add` does), and how to publish as it."""
        with BrokerAdmin(self.admin, client_id="tests-partners") as admin:
            grant, password = add_partner(
                admin, self.prefix, partner, datasets, self.kafka.partitions, self.kafka.topic_configs
            )
        self._partners.add(partner)
        return self.admin.model_copy(update={"username": grant.username, "password": SecretStr(password)})

    def close(self) -> None:
        self._running.close()
        self.engine.dispose()
        with BrokerAdmin(self.admin, client_id="tests-partners") as admin:
            for partner in self._partners:
                revoke_partner(admin, self.prefix, partner)
            admin.seal_credential(worker_principal(self.prefix))
            admin.revoke(worker_principal(self.prefix))


def client_env(access: BrokerAccess) -> dict[str, str]:
    """The HUB_KAFKA_* variables with which a `hub` command signs in as `access`'s principal."""
    env = {"HUB_KAFKA_USERNAME": access.username, "HUB_KAFKA_PASSWORD": access.password.get_secret_value()}
    if access.ca_file is not None:
        env["HUB_KAFKA_CA_FILE"] = str(access.ca_file)
    return env


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


def create_hub_database(services: Services, name: str) -> tuple[str, str, str]:
    """Database `name`, made as `hub up` makes the hub's and migrated by its owner, with the run-time roles granted
    their privileges: its owner's, worker's and API's URLs.

    On the embedded server: owned by the hub owner, the roles the embedded ones. On an external server given by
    HUB_DATABASE_URL: its role owns it, and HUB_DATABASE_WORKER_URL / _API_URL name the run-time roles when set
    (else every part connects as HUB_DATABASE_URL's role, as the hub itself then does).
    """
    try:
        owner = local.create_database(name, services.database_url)
    except local.LocalInfraError as exc:
        pytest.fail(str(exc))
    configured = DatabaseSettings()
    if services.database_url is None:
        embedded = LocalSettings()
        worker, api = embedded.database_url(name, "worker"), embedded.database_url(name, "api")
        roles: tuple[str, str] | None = (EMBEDDED_DATABASE_ROLES["worker"], EMBEDDED_DATABASE_ROLES["api"])
    elif configured.external and (roles := configured.runtime_roles()) is not None:
        worker, api = (_with_database(configured.role_url(role), name) for role in ("worker", "api"))
    else:
        worker = api = owner
        roles = None
    migrate.upgrade(owner)
    if roles is not None:
        grant_runtime_roles(owner, *roles)
    return owner, worker, api


def create_hub(services: Services, protocol_paths: list[Path], data: Path = SHARED_DATA) -> Iterator[HubEnv]:
    """A fresh database (migrated, roles granted, May 2024 wards loaded) and topic prefix, with the parts composed
    for them."""
    name = f"hub_test_{uuid.uuid4().hex[:10]}"
    url, worker_url, api_url = create_hub_database(services, name)
    prefix = f"t{uuid.uuid4().hex[:10]}"
    env = {
        "HUB_KAFKA_TOPIC_PREFIX": prefix,
        "HUB_DATABASE_URL": url,
        "HUB_DATABASE_WORKER_URL": worker_url,
        "HUB_DATABASE_API_URL": api_url,
    }
    if protocol_paths:
        env["HUB_PROTOCOLS_PATHS"] = json.dumps([str(path) for path in protocol_paths])
    if services.kafka_bootstrap:
        env["HUB_KAFKA_BOOTSTRAP"] = services.kafka_bootstrap
    load_reference(url, areas=[WARDS_2024_AREAS], data=data)
    kafka = KafkaSettings(bootstrap=services.kafka_bootstrap, topic_prefix=prefix)
    register = register_at(protocol_paths)
    # As `hub demo` does: the dead-letter topic and a topic per protocol data owner.
    ensure_topics(kafka, protocol_topics(prefix, register), access=services.kafka_admin)
    password = new_password()  # the hub's worker principal, as `hub up` makes the default prefix's
    with BrokerAdmin(services.kafka_admin, client_id="tests-worker") as admin:
        worker = ensure_worker(admin, prefix, password)
    hub = HubEnv(
        prefix,
        url,
        worker_url,
        api_url,
        kafka,
        env,
        list(protocol_paths),
        register,
        # the owner's engine of the tests' own checks, pinged at each checkout (the API's is not): a check made just
        # after the fault suite restarts the database must not fail on a connection that died while pooled
        create_engine(url, pool_pre_ping=True),
        services.kafka_admin,
        {"HUB_KAFKA_USERNAME": worker, "HUB_KAFKA_PASSWORD": password},
    )
    yield hub
    hub.close()
    local.drop_database(name, services.database_url)
    _delete_topics(kafka, services.kafka_admin)


def _delete_topics(kafka: KafkaSettings, access: BrokerAccess) -> None:
    """Delete the hub's topics (its prefix's, faust's own included), so that test hubs do not pile up on the broker:
    every topic adds to each metadata request and to the broker's start."""
    admin = KafkaAdminClient(**access.kafka_python(), client_id="hub-test-cleanup")
    try:
        mine = [
            name
            for name in admin.list_topics()
            if name.startswith((f"{kafka.topic_prefix}.", f"{kafka.topic_prefix}-"))
        ]
        if mine:
            admin.delete_topics(mine)
    except KafkaError as exc:  # left for the operator: a failed clean-up is no test failure
        warnings.warn(f"could not delete the test hub's topics: {type(exc).__name__}", stacklevel=1)
    finally:
        admin.close()


class Worker:
    """`hub worker` as a real subprocess (`extra_env`: more HUB_* settings for it)."""

    def __init__(self, hub: HubEnv, log: Path, extra_env: Mapping[str, str] | None = None) -> None:
        self.hub = hub
        self.log = log
        env = {
            **os.environ,
            **hub.env,
            **hub.worker_env,
            "HUB_WORKER_BATCH_SECONDS": "0.2",
            "HUB_WORKER_TOPIC_REFRESH_SECONDS": "2",
            **(extra_env or {}),
        }
        self._handle = log.open("a")
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "deploy.cli", "worker"], env=env, stdout=self._handle, stderr=subprocess.STDOUT
        )

    def wait_until_loaded(self, timeout: float = 120) -> None:
        """Block until the worker has committed everything on the hub's partner topics."""
        deadline = time.monotonic() + timeout
        lag = wait_for_loader(self.hub.kafka, timeout, access=self.hub.admin)
        if self.process.poll() is not None:
            pytest.fail(f"the worker exited ({self.process.returncode}):\n{self.log.read_text()[-3000:]}")
        if lag or time.monotonic() > deadline:
            pytest.fail(f"the worker is {lag} events behind after {timeout}s:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: gone at once, mid-batch or not, committing nothing more."""
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is not None:
            self._handle.close()
            return
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._handle.close()


def group_members(hub: HubEnv) -> int:
    """How many members the hub's loader group has once it is stable (0 while it rebalances or cannot be asked)."""
    admin = KafkaAdminClient(**hub.admin.kafka_python(), client_id="tests-group")
    try:
        group = loader_group(hub.prefix)
        found = admin.describe_groups([group])[group]
    except KafkaError:
        return 0
    finally:
        admin.close()
    return len(found["members"]) if found["group_state"] == "Stable" else 0


def group_instance_ids(hub: HubEnv) -> list[str | None] | None:
    """The group instance id of each member of the hub's loader group, as the broker reports them (None for a dynamic
    member); None while the group cannot be asked."""
    try:
        admin = KafkaAdminClient(**hub.admin.kafka_python(), client_id="tests-group")
    except KafkaError:
        return None
    try:
        group = loader_group(hub.prefix)
        found = admin.describe_groups([group])[group]
    except KafkaError:
        return None
    finally:
        admin.close()
    return [member.get("group_instance_id") for member in found["members"]]


def wait_for(condition: Callable[[], bool], timeout: float, what: str, poll: float = 0.2) -> float:
    """Poll `condition` until it holds; the seconds it took. Fails naming `what` after `timeout` (a bound)."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(f"not within {timeout:.0f} s: {what}")
        time.sleep(poll)
    return time.monotonic() - started


def publishing(
    hub: HubEnv, dataset: str, path: Path, extra_env: Mapping[str, str] | None = None
) -> subprocess.Popen[str]:
    """`hub publish DATASET PATH` started as a subprocess (as the operator unless `extra_env` names a partner)."""
    return subprocess.Popen(
        [sys.executable, "-m", "deploy.cli", "publish", dataset, str(path)],
        env={**os.environ, **hub.env, **(extra_env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def publish(
    hub: HubEnv, dataset: str, path: Path, extra_env: Mapping[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`hub publish DATASET PATH` run to its end: the finished process, with its output."""
    running = publishing(hub, dataset, path, extra_env)
    out, err = running.communicate(timeout=timeout)
    return subprocess.CompletedProcess(running.args, running.returncode, out, err)


def run_all(commands: list[list[str]], env: dict[str, str]) -> None:
    """Run `hub` commands side by side; each must succeed (the failure names the command and its stderr)."""
    running = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for command in commands
    ]
    for command, process in zip(commands, running, strict=True):
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, f"{command[3:5]}: {err[-2000:]}"


@contextmanager
def generated_feeds_loaded(
    hub: HubEnv,
    directory: Path,
    feeds: Mapping[str, Sequence[str]],
    env: Mapping[str, str],
    files: Sequence[tuple[str, Path]] = (),
) -> Iterator[dict[str, Path]]:
    """Each dataset of `feeds` generated (`hub generate DATASET FILE *options`) into `directory`, published by its
    default partner (with the given `files`, (dataset, file) pairs) and loaded by a worker started after the
    reference data; the generated files, while the worker runs."""
    environ = {**os.environ, **hub.env, **env}
    cli = [sys.executable, "-m", "deploy.cli"]
    paths = {dataset: directory / f"{dataset}.csv" for dataset in feeds}
    run_all([[*cli, "generate", dataset, str(paths[dataset]), *options] for dataset, options in feeds.items()], environ)
    worker = Worker(hub, directory / "worker.log")
    try:
        published = [*paths.items(), *files]
        run_all([[*cli, "publish", dataset, str(path)] for dataset, path in published], environ)
        worker.wait_until_loaded()
        yield paths
    finally:
        worker.stop()


def publish_generated(
    hub: HubEnv, worker: Worker, path: Path, seed: int, env: dict[str, str], district: str | None = None
) -> date:
    """300 generated police records (in `district`, else anywhere) published and loaded; returns the day they were
    loaded (the decision day)."""
    environ = {**os.environ, **hub.env, **env}
    cli = [sys.executable, "-m", "deploy.cli"]
    day = datetime.now(UTC).date()
    places = ["--district", district] if district else []
    generate = [*cli, "generate", "police-records", str(path), "--seed", str(seed), "--rows", "300", *places]
    run_all([generate], environ)
    run_all([[*cli, "publish", "police-records", str(path)]], environ)
    worker.wait_until_loaded()
    assert datetime.now(UTC).date() == day, "the test ran over midnight: the decision day is ambiguous"
    return day


def run_retention(hub: HubEnv, today: date) -> str:
    """`hub retention run --today TODAY` as a subprocess; its output (the command must succeed)."""
    done = subprocess.run(
        [sys.executable, "-m", "deploy.cli", "retention", "run", "--today", today.isoformat()],
        env={**os.environ, **hub.env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout
