"""The embedded single-node KRaft Kafka broker under `<home>/kafka/` (jars resolved once with Maven)."""

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

from deploy.local.home import ServiceHome
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

HOST = "127.0.0.1"
MAIN_CLASS = "kafka.Kafka"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
BIND_ATTEMPTS = 3


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

    def _write_properties(self) -> None:
        port, cport = self.settings.kafka_port, self.settings.kafka_controller_port
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@{HOST}:{cport}",
            "listeners": f"PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{cport}",
            "advertised.listeners": f"PLAINTEXT://{HOST}:{port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.data),
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "num.partitions": "3",
            "auto.create.topics.enable": "true",
            "delete.topic.enable": "true",
        }
        body = "".join(f"{key}={value}\n" for key, value in props.items())
        self.properties.write_text("# Written by deploy.local.kafka_broker on every start.\n" + body)

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

    def _format_storage(self, java: str) -> None:
        if (self.data / "meta.properties").is_file():
            return
        cluster_id = self._cluster_id(java)
        self.data.mkdir(parents=True, exist_ok=True)
        log = self.logs / "format.log"
        with log.open("w") as out:
            code = subprocess.run(
                [java, "-cp", self._classpath(), "kafka.tools.StorageTool", "format",
                 "-t", cluster_id, "-c", str(self.properties), "--ignore-formatted"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            ).returncode  # fmt: skip
        if code != 0:
            raise failure(f"formatting Kafka storage in {self.data} failed (exit {code})", log)

    def pid(self) -> int | None:
        """The broker's pid if it is running."""
        pid = read_pid(self.pidfile)
        return pid if pid is not None and is_running(self.pidfile, MAIN_CLASS) else None

    def is_running(self) -> bool:
        return self.pid() is not None

    def _ready(self, timeout_ms: int = 5000) -> bool:
        """Whether the broker answers a metadata request."""
        from kafka import KafkaAdminClient

        quiet = logging.getLogger("kafka")
        level = quiet.level
        quiet.setLevel(logging.CRITICAL)
        try:
            known = set(getattr(KafkaAdminClient, "DEFAULT_CONFIG", ()))
            # The bootstrap timeout option is named differently across kafka-python releases.
            timeouts = {
                name: timeout_ms for name in ("bootstrap_timeout_ms", "api_version_auto_timeout_ms") if name in known
            }
            admin = KafkaAdminClient(
                bootstrap_servers=self.bootstrap,
                request_timeout_ms=timeout_ms,
                client_id="hub-local-readiness",
                **timeouts,
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
        self._write_properties()
        self._format_storage(java)
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
