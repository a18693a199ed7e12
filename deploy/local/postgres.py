"""The embedded PostgreSQL + PostGIS server under `<home>/postgres/` (data/, logs/postgres.log).

Every connection authenticates with a SCRAM-SHA-256 password, over TCP on loopback or the unix socket
(pg_hba.conf is written on every start; nothing is trusted). The passwords are made by `hub up` and kept in
`<home>/secrets/` (postgres-superuser, postgres-owner, postgres-worker, postgres-api), and for libpq in
`<home>/secrets/pgpass`, which the URLs of deploy.settings name (`?passfile=`): no password is ever in a URL,
on a command line or in a log. The bootstrap superuser only creates the roles (warehouse owner, worker, API:
none a superuser), the databases (owned by the owner) and the PostGIS extension.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql
from sqlalchemy.exc import SQLAlchemyError

from deploy.home_secrets import ensure_password, ensure_private_dir, write_private
from deploy.local.home import ServiceHome
from deploy.local.processes import (
    LocalInfraError,
    failure,
    file_size,
    pid_alive,
    port_open,
    read_pid,
    tail,
    tail_since,
)
from deploy.settings import EMBEDDED_DATABASE_ROLES, DatabaseRole, LocalSettings
from warehouse.schema import migrate
from warehouse.schema.db import libpq_url
from warehouse.schema.privileges import grant_runtime_roles

HOST = "127.0.0.1"
DEFAULT_BINDIR = Path("/usr/lib/postgresql/15/bin")
SERVICE_USER = "postgres"  # initdb/postgres refuse to run as root, so root runs them as this OS user
START_TIMEOUT = 60
BIND_ATTEMPTS = 3
_SOCKET_PATH_MAX = 100  # unix socket paths are limited to ~107 bytes
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$-]{0,62}$")
_MISSING = (
    "install postgresql-15 and postgresql-15-postgis-3 (Debian; deploy/bootstrap.sh does this), "
    "or set HUB_DATABASE_URL to use an external PostGIS"
)

SUPERUSER_SECRET = "postgres-superuser"
ROLE_SECRETS: dict[DatabaseRole, str] = {role: f"postgres-{role}" for role in EMBEDDED_DATABASE_ROLES}
# Who may connect, and how: every database and user, by SCRAM password only, on the socket and on loopback.
PG_HBA = """\
# Written by deploy.local.postgres on every start; edits are overwritten.
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 scram-sha-256
host    all       all   127.0.0.1/32  scram-sha-256
host    all       all   ::1/128       scram-sha-256
"""
_ROLE_ATTRIBUTES = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"

# Sized for a 2-core, 24 GiB machine; fsync and synchronous_commit stay on.
_TUNING = {
    "shared_buffers": "512MB",
    "effective_cache_size": "12GB",
    "work_mem": "32MB",
    "maintenance_work_mem": "512MB",
    "wal_buffers": "16MB",
    "max_wal_size": "2GB",
    "min_wal_size": "256MB",
    "checkpoint_completion_target": "0.9",
    "max_connections": "200",
    "max_worker_processes": "4",
    "max_parallel_workers": "2",
    "max_parallel_workers_per_gather": "1",
    "max_parallel_maintenance_workers": "1",
    "timezone": "'UTC'",
    "log_timezone": "'UTC'",
    "password_encryption": "'scram-sha-256'",
}


def _run_as_service_user() -> bool:
    return os.geteuid() == 0


def _as_service_user(cmd: list[str]) -> list[str]:
    if not _run_as_service_user():
        return cmd
    runuser = shutil.which("runuser")
    if runuser is None:
        raise LocalInfraError("running as root needs `runuser` (util-linux) to start PostgreSQL as `postgres`")
    return [runuser, "-u", SERVICE_USER, "--", *cmd]


def _has_server(bindir: Path) -> bool:
    return all((bindir / name).is_file() for name in ("initdb", "pg_ctl", "postgres"))


def bindir() -> Path:
    """The directory with initdb, pg_ctl and postgres (pg_config --bindir, else /usr/lib/postgresql/*/bin)."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config is not None:
        result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if result.returncode == 0 and result.stdout.strip():
            candidates.append(Path(result.stdout.strip()))
    candidates.append(DEFAULT_BINDIR)
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    candidates.extend(
        sorted(versions, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True)
    )
    for candidate in candidates:
        if _has_server(candidate):
            return candidate
    raise LocalInfraError(f"PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found: {_MISSING}")


def _server_major(bin_path: Path) -> str:
    out = subprocess.run([str(bin_path / "pg_ctl"), "--version"], capture_output=True, text=True).stdout
    match = re.search(r"(\d+)", out)
    return match.group(1) if match else "?"


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


def _check_identifier(name: str) -> None:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain database name: {name!r}")


def _ensure_postgis(conninfo: str, database: str) -> None:
    try:
        with psycopg.connect(conninfo, dbname=database, autocommit=True, connect_timeout=10) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except psycopg.Error as exc:
        hint = f"; {_MISSING}" if "postgis" in str(exc) and "not available" in str(exc) else ""
        raise LocalInfraError(f"could not enable PostGIS in database {database!r}: {exc}{hint}") from exc


def create_database(name: str, url: str | None = None, owner: str | None = None) -> str:
    """Create database `name` (if missing), owned by `owner`, with the postgis extension; return its URL.

    `url` is a database URL on the target server for a role that may create databases; the returned URL is the
    same with the database name replaced. Without `url`: on the embedded server, as its bootstrap superuser,
    owned by the hub owner (unless `owner`), and the owner's URL is returned.
    """
    _check_identifier(name)
    if url is None:
        local = LocalSettings()
        admin, created = local.superuser_url(), local.database_url(name)
        owner = owner or EMBEDDED_DATABASE_ROLES["owner"]
    else:
        admin, created = url, _with_database(url, name)
    conninfo = libpq_url(admin)
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if owner is not None:
        create = sql.SQL("{} OWNER {}").format(create, sql.Identifier(owner))
    try:
        with psycopg.connect(conninfo, dbname="postgres", autocommit=True, connect_timeout=10) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if exists is None:
                conn.execute(create)
    except psycopg.errors.DuplicateDatabase:
        pass  # created concurrently
    except psycopg.Error as exc:
        raise LocalInfraError(f"could not create database {name!r}: {exc}") from exc
    _ensure_postgis(conninfo, name)
    return created


def drop_database(name: str, url: str | None = None) -> None:
    """Drop database `name` if it exists, disconnecting its sessions (`url` as for create_database)."""
    _check_identifier(name)
    conninfo = libpq_url(url or LocalSettings().superuser_url())
    try:
        with psycopg.connect(conninfo, dbname="postgres", autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        raise LocalInfraError(f"could not drop database {name!r}: {exc}") from exc


def ensure_roles(url: str, passwords: dict[str, str]) -> None:
    """Create each role of `passwords` (or reset it) as a login role that is not a superuser, may not create
    databases or roles, with that password; `url` is the superuser's.

    The password reaches the server only as its SCRAM-SHA-256 verifier, computed here by libpq.
    """
    try:
        with psycopg.connect(libpq_url(url), autocommit=True, connect_timeout=10) as conn:
            me = conn.execute("SELECT current_user").fetchone()
            if me is not None and me[0] in passwords:
                raise LocalInfraError(f"the role {me[0]!r} that creates the roles cannot be one of them")
            for role, password in passwords.items():
                verifier = conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256")
                exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
                conn.execute(
                    sql.SQL("{} ROLE {} WITH {} PASSWORD {}").format(
                        sql.SQL("ALTER" if exists else "CREATE"),
                        sql.Identifier(role),
                        sql.SQL(_ROLE_ATTRIBUTES),
                        sql.Literal(verifier.decode()),
                    )
                )
    except psycopg.Error as exc:
        raise LocalInfraError(f"could not create the database roles: {exc}") from exc


def pgpass_text(host: str, port: int, passwords: dict[str, str]) -> str:
    """A libpq password file: each role's password for every database on host:port."""
    for role, password in passwords.items():
        if any(c in f"{role}{password}" for c in ":\\\n"):
            raise ValueError(f"role {role!r}: a pgpass field may not contain ':', '\\' or a newline")
    return "".join(f"{host}:{port}:*:{role}:{password}\n" for role, password in passwords.items())


@dataclass(frozen=True)
class PostgresServer(ServiceHome):
    """Paths and lifecycle of the embedded PostgreSQL server for one LocalSettings."""

    name: ClassVar[str] = "postgres"

    @property
    def log_file(self) -> Path:
        return self.logs / "postgres.log"

    @property
    def address(self) -> str:
        return f"{HOST}:{self.settings.pg_port}"

    def _secret(self, name: str) -> Path:
        return self.settings.secrets_dir / name

    def _check_secured(self) -> None:
        """Refuse a cluster made before the hub kept passwords (it trusted every local connection)."""
        if (self.data / "PG_VERSION").is_file() and not self._secret(SUPERUSER_SECRET).is_file():
            raise LocalInfraError(
                f"postgres: {self.data} has no superuser password file {self._secret(SUPERUSER_SECRET)}: it was "
                "made before the embedded database required passwords (it trusts every local connection), or that "
                f"file was removed. It holds only rebuildable lab data: run `hub down`, remove {self.root}, and "
                "run `hub up` again"
            )

    def _passwords(self) -> dict[str, str]:
        """Each role's password by role name (the superuser first), made on first use; pgpass rewritten."""
        ensure_private_dir(self.settings.secrets_dir)
        passwords = {self.settings.pg_user: ensure_password(self._secret(SUPERUSER_SECRET))}
        for role, name in EMBEDDED_DATABASE_ROLES.items():
            passwords[name] = ensure_password(self._secret(ROLE_SECRETS[role]))
        write_private(self.settings.pgpass, pgpass_text(HOST, self.settings.pg_port, passwords).encode())
        return passwords

    @property
    def socket_dir(self) -> str:
        """Where the server's unix socket is (the data directory, unless its path is too long for a socket)."""
        if len(str(self.data)) + len(f"/.s.PGSQL.{self.settings.pg_port}") <= _SOCKET_PATH_MAX:
            return str(self.data)
        return "/tmp"

    def _prepare_dirs(self) -> None:
        """Create root/, logs/ and hand them to the service user when running as root."""
        self.logs.mkdir(parents=True, exist_ok=True)
        if not _run_as_service_user():
            return
        try:
            entry = pwd.getpwnam(SERVICE_USER)
        except KeyError as exc:
            raise LocalInfraError(
                f"as root, PostgreSQL must run as the `{SERVICE_USER}` OS user, which does not exist: {_MISSING}"
            ) from exc
        for path in (self.root, self.logs, self.data):
            if path.exists() and path.stat().st_uid != entry.pw_uid:
                subprocess.run(["chown", "-R", f"{entry.pw_uid}:{entry.pw_gid}", str(path)], check=True)
        if self.log_file.exists() and self.log_file.stat().st_uid != entry.pw_uid:
            os.chown(self.log_file, entry.pw_uid, entry.pw_gid)
        probe = subprocess.run(_as_service_user(["test", "-w", str(self.root)]), capture_output=True)
        if probe.returncode != 0:
            raise LocalInfraError(
                f"the `{SERVICE_USER}` OS user cannot write {self.root}: every parent directory must be "
                "searchable by it (chmod o+x), or set HUB_LOCAL_HOME to a directory it can reach"
            )

    def _run(self, cmd: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            _as_service_user(cmd),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            cwd=self.root,
            start_new_session=True,  # the server must not get the caller's Ctrl-C
        )

    def _initdb(self, bin_path: Path) -> None:
        if (self.data / "PG_VERSION").is_file():
            return
        if self.data.exists():
            shutil.rmtree(self.data)  # left over from a failed initdb
        log = self.logs / "initdb.log"
        pwfile = self.root / ".initdb-password"  # the service user must read it; removed once initdb is done
        write_private(pwfile, (ensure_password(self._secret(SUPERUSER_SECRET)) + "\n").encode())
        if _run_as_service_user():
            entry = pwd.getpwnam(SERVICE_USER)
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        try:
            result = self._run(
                [str(bin_path / "initdb"), "-D", str(self.data), "-U", self.settings.pg_user,
                 "--auth=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C"],
            )  # fmt: skip
        finally:
            pwfile.unlink(missing_ok=True)
        log.write_text(result.stdout + result.stderr)
        if result.returncode != 0:
            raise failure(f"postgres: initdb of {self.data} failed (exit {result.returncode})", log)
        conf = self.data / "postgresql.conf"
        with conf.open("a") as handle:
            handle.write("\n# Settings managed by deploy.local.postgres (rewritten on every start).\n")
            handle.write("include_if_exists = 'hub.conf'\n")

    def _write_config(self) -> None:
        settings = {
            "listen_addresses": f"'{HOST}'",
            "port": str(self.settings.pg_port),
            "unix_socket_directories": f"'{self.socket_dir}'",
            **_TUNING,
        }
        body = "".join(f"{key} = {value}\n" for key, value in settings.items())
        conf, hba = self.data / "hub.conf", self.data / "pg_hba.conf"
        conf.write_text("# Written by deploy.local.postgres on every start; edits are overwritten.\n" + body)
        hba.write_text(PG_HBA)
        hba.chmod(0o600)
        if _run_as_service_user():
            entry = pwd.getpwnam(SERVICE_USER)
            for target in (conf, hba):
                os.chown(target, entry.pw_uid, entry.pw_gid)

    def pid(self) -> int | None:
        """The postmaster's pid if it is running."""
        pid = read_pid(self.data / "postmaster.pid")
        return pid if pid is not None and pid_alive(pid, "postgres") else None

    def is_running(self) -> bool:
        return self.pid() is not None

    def start(self) -> str:
        """Initialise (once) and start the server unless it runs; ensure the roles, and the hub database with
        PostGIS."""
        self._check_secured()
        if self.is_running():
            self.ensure_database()
            return f"postgres: already running on {self.address} (pid {self.pid()})"
        if port_open(HOST, self.settings.pg_port):
            raise LocalInfraError(
                f"postgres: port {self.address} is already in use by another process; stop it or choose "
                "another port with HUB_LOCAL_PG_PORT"
            )
        bin_path = bindir()
        self._prepare_dirs()
        self._passwords()
        self._initdb(bin_path)
        data_major = (self.data / "PG_VERSION").read_text().strip()
        server_major = _server_major(bin_path)
        if data_major != server_major:
            raise LocalInfraError(
                f"postgres: {self.data} was initialised by PostgreSQL {data_major} but {bin_path} is "
                f"PostgreSQL {server_major}; install version {data_major} or remove {self.root}"
            )
        self._write_config()
        for attempt in range(1, BIND_ATTEMPTS + 1):
            offset = file_size(self.log_file)
            result = self._run(
                [str(bin_path / "pg_ctl"), "-D", str(self.data), "-l", str(self.log_file), "-w",
                 "-t", str(START_TIMEOUT), "start"],
            )  # fmt: skip
            if result.returncode == 0:
                break
            lines = tail_since(self.log_file, offset) or "(nothing new)"
            if "Address already in use" in lines and attempt < BIND_ATTEMPTS and not self.is_running():
                time.sleep(2)  # the port was briefly taken (e.g. as a client's ephemeral port)
                continue
            said = " ".join(f"{result.stdout} {result.stderr}".split())
            raise LocalInfraError(
                f"postgres: pg_ctl start failed (exit {result.returncode}): {said}\n"
                f"{self.log_file}: last lines from this start:\n{lines}"
            )
        self.ensure_database()
        return f"postgres: started on {self.address} (pid {self.pid()}, logs {self.log_file})"

    def ensure_database(self) -> None:
        """Ensure the roles, the hub database (HUB_LOCAL_PG_DATABASE, owned by the hub owner) with PostGIS, and,
        once it is migrated, the run-time roles' privileges in it."""
        owner = EMBEDDED_DATABASE_ROLES["owner"]
        database = self.settings.pg_database
        try:
            passwords = self._passwords()
            roles = {name: passwords[name] for name in EMBEDDED_DATABASE_ROLES.values()}  # never the superuser
            ensure_roles(self.settings.superuser_url("postgres"), roles)
            create_database(database, self.settings.superuser_url(), owner=owner)
            self._grant(self.settings.database_url(database))
        except LocalInfraError as exc:
            raise LocalInfraError(f"{exc}\nServer log {self.log_file}; last lines:\n{tail(self.log_file, 15)}") from exc

    @staticmethod
    def _grant(owner_url: str) -> None:
        """The run-time roles' privileges, re-applied (as the owner) when the database is migrated."""
        try:
            if migrate.at_head(owner_url):
                grant_runtime_roles(owner_url, EMBEDDED_DATABASE_ROLES["worker"], EMBEDDED_DATABASE_ROLES["api"])
        except (psycopg.Error, SQLAlchemyError) as exc:
            raise LocalInfraError(f"could not grant the run-time roles their privileges: {exc}") from exc

    def stop(self) -> str:
        """Stop the server with `pg_ctl stop -m fast`; return a line saying what happened."""
        pid = self.pid()
        if pid is None:
            return "postgres: not running"
        result = self._run([str(bindir() / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop"])
        if result.returncode != 0:
            raise failure(
                f"postgres: pg_ctl stop failed: {result.stdout.strip()} {result.stderr.strip()}",
                self.log_file,
            )
        return f"postgres: stopped (pid {pid})"

    def status(self) -> str:
        """A short state string: running/stopped/not set up."""
        pid = self.pid()
        if pid is not None:
            state = "running" if port_open(HOST, self.settings.pg_port) else "starting"
            return f"{state} on {self.address} (pid {pid})"
        if not (self.data / "PG_VERSION").is_file():
            return "not set up (hub up creates it)"
        return "stopped"
