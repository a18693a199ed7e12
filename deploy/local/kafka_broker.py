"""The embedded single-node KRaft Kafka broker under `<home>/kafka/` (jars resolved once with Maven).

It is secured from its first start: clients reach it only over SASL_SSL with SCRAM-SHA-512 (TLS from the hub CA,
deploy.local.kafka_tls), the controller listener takes SASL PLAIN from `hub-controller` alone, and the
StandardAuthorizer denies whatever no ACL allows. Its own principals (`hub-admin` for the operator's tools,
`hub-broker` between brokers, `hub-controller`) are super users whose passwords are kept in `<home>/secrets/`;
the SCRAM ones are written into the metadata log when the storage is formatted, in salted form only.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from broker_access.credentials import BrokerAccess, ScramMechanism
from deploy.home_secrets import (
    KAFKA_ADMIN,
    KAFKA_BROKER,
    KAFKA_CONTROLLER,
    SecretFileError,
    ServiceCredential,
    ensure_credential,
    read_credential,
    secrets_dir,
    write_private,
)
from deploy.local.home import ServiceHome
from deploy.local.kafka_tls import BrokerTls
from deploy.local.processes import (
    LocalInfraError,
    failure,
    file_size,
    is_running,
    port_open,
    read_pid,
    start_detached,
    stop_pid,
    tail_since,
    wait_for_port,
)
from deploy.local.scram import ScramCredential
from deploy.settings import LocalSettings

HOST = "127.0.0.1"
MAIN_CLASS = "kafka.Kafka"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
BIND_ATTEMPTS = 3
MECHANISM: ScramMechanism = "SCRAM-SHA-512"
ADMIN_USER, BROKER_USER, CONTROLLER_USER = "hub-admin", "hub-broker", "hub-controller"
SUPER_USERS = (ADMIN_USER, BROKER_USER, CONTROLLER_USER)
LISTENER = "SASL_SSL"  # the clients' and inter-broker listener (named after its protocol)
CONTROLLER = "CONTROLLER"
SECURED_MARKER = "secured"  # written once the storage is formatted with the SCRAM principals


@contextlib.contextmanager
def _packaged(name: str) -> Iterator[Path]:
    """A filesystem path to a file shipped in deploy/kafka/ (pom.xml, log4j.properties)."""
    resource = importlib.resources.files("deploy").joinpath("kafka", name)
    with importlib.resources.as_file(resource) as path:
        if not path.is_file():
            raise LocalInfraError(f"packaged file deploy/kafka/{name} is missing ({path})")
        yield path


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which("java")
    if found is None:
        raise LocalInfraError(
            "`java` was not found on PATH; the embedded Kafka broker needs a Java 11+ runtime "
            "(Debian: apt-get install default-jre-headless, or run deploy/bootstrap.sh), "
            "or set HUB_KAFKA_BOOTSTRAP to use an external broker"
        )
    return found


@dataclass(frozen=True)
class KafkaBroker(ServiceHome):
    """Paths and lifecycle of the embedded broker for one LocalSettings."""

    name: ClassVar[str] = "kafka"

    @property
    def libs(self) -> Path:
        return self.root / "libs"

    @property
    def server_log(self) -> Path:
        return self.logs / "server.log"

    @property
    def console_log(self) -> Path:
        return self.logs / "kafka.out"

    @property
    def properties(self) -> Path:
        return self.root / "server.properties"

    @property
    def cluster_id_file(self) -> Path:
        return self.root / "cluster.id"

    @property
    def pidfile(self) -> Path:
        return self.root / "kafka.pid"

    @property
    def bootstrap(self) -> str:
        return self.settings.kafka_bootstrap

    def resolve_jars(self) -> Path:
        """Download the broker jars into libs/ with Maven unless libs/ already holds some; return libs/."""
        if self.libs.is_dir() and any(self.libs.glob("*.jar")):
            return self.libs
        _java()
        mvn = shutil.which("mvn")
        if mvn is None:
            raise LocalInfraError(
                "`mvn` (Apache Maven) was not found on PATH; it is needed once to fetch the Kafka jars "
                "(Debian: apt-get install maven, or run deploy/bootstrap.sh), "
                "or set HUB_KAFKA_BOOTSTRAP to use an external broker"
            )
        self.logs.mkdir(parents=True, exist_ok=True)
        staging = self.root / "libs.partial"
        shutil.rmtree(staging, ignore_errors=True)
        log = self.logs / "mvn.log"
        with _packaged("pom.xml") as pom, log.open("w") as out:
            cmd = [
                mvn, "-q", "-B", "-f", str(pom), "dependency:copy-dependencies",
                "-DincludeScope=runtime", f"-DoutputDirectory={staging}",
            ]  # fmt: skip
            code = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT).returncode
        if code != 0 or not any(staging.glob("*.jar")):
            raise failure(f"resolving the Kafka jars with Maven failed (exit {code})", log)
        shutil.rmtree(self.libs, ignore_errors=True)
        staging.rename(self.libs)
        return self.libs

    def _classpath(self) -> str:
        return f"{self.libs}/*"

    @property
    def tls(self) -> BrokerTls:
        return BrokerTls(self.root / "tls", secrets_dir(self.settings.home))

    @property
    def secured_marker(self) -> Path:
        return self.root / SECURED_MARKER

    def _credential(self, name: str, username: str) -> ServiceCredential:
        return ensure_credential(secrets_dir(self.settings.home), name, username)

    def admin_access(self) -> BrokerAccess:
        """How the operator's tools sign in: `hub-admin` over SASL_SSL, trusting the hub CA."""
        try:
            admin = read_credential(secrets_dir(self.settings.home), KAFKA_ADMIN)
        except SecretFileError as exc:
            raise LocalInfraError(f"kafka: the admin credential is missing ({exc}); `hub up` makes it") from None
        return BrokerAccess(
            servers=self.bootstrap,
            username=admin.username,
            password=admin.password,
            ca_file=self.tls.ca_file,
            mechanism=MECHANISM,
        )

    def _write_properties(self, broker: ServiceCredential, controller: ServiceCredential) -> None:
        props = broker_properties(self.settings, self.data, self.tls, broker, controller)
        body = "".join(f"{key}={value}\n" for key, value in props.items())
        header = "# Written by deploy.local.kafka_broker on every start (0600: it holds the broker's passwords).\n"
        write_private(self.properties, (header + body).encode())

    def _cluster_id(self, java: str) -> str:
        if self.cluster_id_file.is_file():
            existing = self.cluster_id_file.read_text().strip()
            if existing:
                return existing
        result = subprocess.run(
            [java, "-cp", self._classpath(), "kafka.tools.StorageTool", "random-uuid"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
        )
        lines = result.stdout.strip().splitlines()
        if result.returncode != 0 or not lines:
            raise LocalInfraError(f"kafka StorageTool random-uuid failed:\n{result.stdout}{result.stderr}")
        cluster_id = lines[-1].strip()
        self.cluster_id_file.write_text(cluster_id + "\n")
        return cluster_id

    def _check_store(self) -> None:
        """Refuse a store no one can sign in to: formatted before the broker was secured (it has no SCRAM
        principals), or whose principals' passwords are no longer in the home's secrets."""
        if not (self.data / "meta.properties").is_file():
            return
        rebuild = (
            "The embedded broker holds rebuildable lab data: stop the hub (`hub down`), remove "
            f"{self.root} and run `hub up` again (topics are recreated empty; republish the feeds)."
        )
        if not self.secured_marker.is_file():
            raise LocalInfraError(
                f"kafka: the storage in {self.data} was formatted before the embedded broker was secured "
                f"(SASL_SSL, SCRAM principals, ACLs) and has no principals to sign in with. {rebuild}"
            )
        missing = [
            name for name in (KAFKA_ADMIN, KAFKA_BROKER) if not (secrets_dir(self.settings.home) / name).is_file()
        ]
        if missing:
            raise LocalInfraError(
                f"kafka: the passwords of the broker's own principals ({', '.join(missing)} in "
                f"{secrets_dir(self.settings.home)}) are gone, so nothing can sign in to the storage in {self.data}. "
                f"{rebuild}"
            )

    def _format_storage(self, java: str, admin: ServiceCredential, broker: ServiceCredential) -> None:
        """Format the storage once, with the SCRAM credentials of hub-admin and hub-broker (salted, never clear)."""
        if (self.data / "meta.properties").is_file():
            return
        cluster_id = self._cluster_id(java)
        self.data.mkdir(parents=True, exist_ok=True)
        scram = [
            ScramCredential.for_password(MECHANISM, c.username, c.password.get_secret_value()) for c in (admin, broker)
        ]
        arguments = ["format", "-t", cluster_id, "-c", str(self.properties), "--ignore-formatted"]
        for credential in scram:
            arguments += ["--add-scram", credential.add_scram_argument()]
        # The salted passwords go in an argument file (0600, read by argparse4j's @file) rather than on the
        # command line, where any local user could read them from the process list.
        args_file = secrets_dir(self.settings.home) / "kafka-format.args"
        write_private(args_file, ("\n".join(arguments) + "\n").encode())
        log = self.logs / "format.log"
        try:
            with log.open("w") as out:
                code = subprocess.run(
                    [java, "-cp", self._classpath(), "kafka.tools.StorageTool", f"@{args_file}"],
                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                ).returncode  # fmt: skip
        finally:
            args_file.unlink(missing_ok=True)
        if code != 0:
            raise failure(f"formatting Kafka storage in {self.data} failed (exit {code})", log)
        self.secured_marker.write_text(f"formatted with SCRAM principals {', '.join(c.username for c in scram)}\n")

    def pid(self) -> int | None:
        """The broker's pid if it is running."""
        pid = read_pid(self.pidfile)
        return pid if pid is not None and is_running(self.pidfile, MAIN_CLASS) else None

    def is_running(self) -> bool:
        return self.pid() is not None

    def _ready(self, timeout_ms: int = 5000) -> bool:
        """Whether the broker answers a metadata request from hub-admin over SASL_SSL."""
        from kafka import KafkaAdminClient

        quiet = logging.getLogger("kafka")
        level = quiet.level
        quiet.setLevel(logging.CRITICAL)
        try:
            admin = KafkaAdminClient(
                **self.admin_access().kafka_python(),
                request_timeout_ms=timeout_ms,
                bootstrap_timeout_ms=timeout_ms,
                client_id="hub-local-readiness",
            )
            try:
                admin.describe_cluster()
                return True
            finally:
                admin.close()
        except Exception:
            return False
        finally:
            quiet.setLevel(level)

    def start(self) -> str:
        """Start the broker unless it is already running; return a line saying which."""
        self._check_store()
        if self.is_running():
            return f"kafka: already running on {self.bootstrap} (pid {self.pid()})"
        port, cport = self.settings.kafka_port, self.settings.kafka_controller_port
        for busy in (port, cport):
            if port_open(HOST, busy):
                raise LocalInfraError(
                    f"kafka: port {HOST}:{busy} is already in use by another process; stop it or choose "
                    "other ports with HUB_LOCAL_KAFKA_PORT / HUB_LOCAL_KAFKA_CONTROLLER_PORT"
                )
        java = _java()
        self.resolve_jars()
        for directory in (self.data, self.logs):
            directory.mkdir(parents=True, exist_ok=True)
        admin = self._credential(KAFKA_ADMIN, ADMIN_USER)
        broker = self._credential(KAFKA_BROKER, BROKER_USER)
        controller = self._credential(KAFKA_CONTROLLER, CONTROLLER_USER)
        self.tls.ensure()
        self._write_properties(broker, controller)
        self._format_storage(java, admin, broker)
        with _packaged("log4j.properties") as log4j:
            heap = self.settings.kafka_heap
            cmd = [
                java, f"-Xmx{heap}", f"-Xms{heap}", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
                "-Djava.awt.headless=true", f"-Dkafka.logs.dir={self.logs}",
                f"-Dlog4j.configuration=file:{log4j}",
                "-cp", self._classpath(), MAIN_CLASS, str(self.properties),
            ]  # fmt: skip
            for attempt in range(1, BIND_ATTEMPTS + 1):
                offsets = (file_size(self.server_log), file_size(self.console_log))
                pid = start_detached(cmd, log_file=self.console_log, pidfile=self.pidfile, cwd=self.root)
                if wait_for_port(HOST, port, START_TIMEOUT, pid=pid):
                    break
                exited = not self.is_running()
                self._abort(pid)
                if exited and attempt < BIND_ATTEMPTS and self._bind_conflict(offsets):
                    time.sleep(2)  # the port was briefly taken (e.g. as a client's ephemeral port)
                    continue
                reason = "exited during startup" if exited else f"did not open {port} within {START_TIMEOUT:.0f} s"
                raise self._start_failure(f"kafka: the broker {reason}", offsets)
        deadline = time.monotonic() + START_TIMEOUT
        while not self._ready():
            if time.monotonic() > deadline or not self.is_running():
                self._abort(pid)
                raise self._start_failure(f"kafka: broker on {self.bootstrap} did not become ready", offsets)
            time.sleep(0.5)
        return f"kafka: started on {self.bootstrap} (pid {pid}, logs {self.server_log})"

    def _bind_conflict(self, offsets: tuple[int, int]) -> bool:
        """Whether the start that wrote from `offsets` on failed because a port was in use."""
        return any(
            "Address already in use" in tail_since(log, offset, lines=200)
            for log, offset in zip((self.server_log, self.console_log), offsets, strict=True)
        )

    def _start_failure(self, message: str, offsets: tuple[int, int]) -> LocalInfraError:
        """An error with what server.log and the JVM console (kafka.out) received during this start."""
        parts = [message]
        for log, offset in zip((self.server_log, self.console_log), offsets, strict=True):
            lines = tail_since(log, offset)
            parts.append(f"{log}: last lines from this start:\n{lines}" if lines else f"{log}: nothing new")
        return LocalInfraError("\n".join(parts))

    def _abort(self, pid: int) -> None:
        stop_pid(pid, timeout=10)
        self.pidfile.unlink(missing_ok=True)

    def stop(self) -> str:
        """Stop the broker cleanly (SIGTERM, SIGKILL after 30 s); return a line saying what happened."""
        pid = self.pid()
        if pid is None:
            self.pidfile.unlink(missing_ok=True)
            return "kafka: not running"
        killed = stop_pid(pid, timeout=STOP_TIMEOUT)
        self.pidfile.unlink(missing_ok=True)
        return f"kafka: {'killed (did not stop within 30 s)' if killed else 'stopped'} (pid {pid})"

    def status(self) -> str:
        """A short state string: running/stopped/not set up."""
        pid = self.pid()
        if pid is not None:
            state = "running" if port_open(HOST, self.settings.kafka_port) else "starting"
            return f"{state} on {self.bootstrap} (pid {pid})"
        if not (self.data / "meta.properties").is_file():
            return "not set up (hub up creates it)"
        return "stopped"


def _jaas(module: str, credential: ServiceCredential, *extra: str) -> str:
    """A one-line JAAS configuration (hub passwords are URL-safe base64: nothing in them needs quoting)."""
    password = credential.password.get_secret_value()
    options = [f'username="{credential.username}"', f'password="{password}"', *extra]
    return f"{module} required {' '.join(options)};"


def broker_properties(
    settings: LocalSettings, data: Path, tls: BrokerTls, broker: ServiceCredential, controller: ServiceCredential
) -> dict[str, str]:
    """server.properties of the secured single-node KRaft broker (broker and controller in one process)."""
    port, cport = settings.kafka_port, settings.kafka_controller_port
    listener, scram = LISTENER.lower(), MECHANISM.lower()
    return {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{HOST}:{cport}",
        "listeners": f"{LISTENER}://{HOST}:{port},{CONTROLLER}://{HOST}:{cport}",
        "advertised.listeners": f"{LISTENER}://{HOST}:{port}",
        "controller.listener.names": CONTROLLER,
        "inter.broker.listener.name": LISTENER,
        "listener.security.protocol.map": f"{CONTROLLER}:SASL_PLAINTEXT,{LISTENER}:SASL_SSL",
        # Clients and the broker itself: SCRAM-SHA-512 over TLS, nothing else.
        f"listener.name.{listener}.sasl.enabled.mechanisms": MECHANISM,
        "sasl.mechanism.inter.broker.protocol": MECHANISM,
        f"listener.name.{listener}.{scram}.sasl.jaas.config": _jaas(
            "org.apache.kafka.common.security.scram.ScramLoginModule", broker
        ),
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(tls.keystore),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(tls.ca_file),
        "ssl.client.auth": "none",
        # The controller listener (loopback, this process only): SASL PLAIN with one static user.
        f"listener.name.{CONTROLLER.lower()}.sasl.enabled.mechanisms": "PLAIN",
        "sasl.mechanism.controller.protocol": "PLAIN",
        f"listener.name.{CONTROLLER.lower()}.plain.sasl.jaas.config": _jaas(
            "org.apache.kafka.common.security.plain.PlainLoginModule",
            controller,
            f'user_{controller.username}="{controller.password.get_secret_value()}"',
        ),
        # Nothing is allowed that an ACL does not allow; the hub's own principals are super users.
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found": "false",
        "super.users": ";".join(f"User:{name}" for name in SUPER_USERS),
        "log.dirs": str(data),
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        "num.partitions": "3",
        "auto.create.topics.enable": "false",
        "delete.topic.enable": "true",
    }
