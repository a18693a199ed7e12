"""The hub's settings, read from HUB_* environment variables: the one place that reads them.

Each group of variables is read by a BaseSettings class below; the functions at the end compose from them the
settings types the packages own (WarehouseSettings, GeocoderSettings, WorkerSettings, ProducerSettings,
ApiSettings), which deploy hands in. Nothing is cached: each call reads the environment as it is.

When HUB_KAFKA_BOOTSTRAP or HUB_DATABASE_URL is set, that service is external and `hub up` starts nothing
for it; otherwise the embedded local service (see deploy.local) is used on a loopback port.

Kafka is reached over SASL_SSL as a SCRAM principal (broker_access): HUB_KAFKA_USERNAME / HUB_KAFKA_PASSWORD when
set; on the embedded broker otherwise the role's credential that `hub up` keeps in `<HUB_LOCAL_HOME>/secrets/`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from urllib.parse import quote, unquote, urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.settings import ApiSettings
from broker_access.credentials import BrokerAccess, ScramMechanism
from deploy.home_secrets import KAFKA_ADMIN, SecretFileError, kafka_worker_file, read_credential, secrets_dir
from geography.settings import GeocoderSettings
from producers.anonymisation.linkage_keys import ENV_PREFIX as LINKAGE_KEY_PREFIX
from producers.settings import ProducerSettings
from sharing_protocols.topics import dead_letter_topic, partner_topic
from stream_processors.settings import WorkerSettings
from warehouse.settings import WarehouseSettings
from web.settings import WebSettings

DatabaseRole = Literal["owner", "worker", "api"]
# The embedded cluster's roles: the owner of the hub databases (migrations, operator tools) and the two run-time
# roles, each with the privileges of warehouse.schema.privileges.
EMBEDDED_DATABASE_ROLES: dict[DatabaseRole, str] = {"owner": "hub_owner", "worker": "hub_worker", "api": "hub_api"}


class LocalSettings(BaseSettings):
    """The embedded broker and database that `hub up` manages (HUB_LOCAL_*)."""

    model_config = SettingsConfigDict(env_prefix="HUB_LOCAL_", frozen=True)

    home: Path = Path(".hub")
    kafka_port: int = 19092
    kafka_controller_port: int = 19093
    kafka_heap: str = "768m"
    pg_port: int = 25432
    pg_user: str = "hub"  # the bootstrap superuser: only `hub up` logs in as it (roles, databases, PostGIS)
    pg_database: str = "hub"
    shared_data: Path = Path("../shared/data")

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def secrets_dir(self) -> Path:
        """<home>/secrets (0700): the embedded services' own credentials, files 0600."""
        return secrets_dir(self.home)

    @property
    def pgpass(self) -> Path:
        """The libpq password file of the embedded cluster's roles (written by `hub up`)."""
        return self.secrets_dir / "pgpass"

    def _pg_url(self, user: str, database: str | None) -> str:
        passfile = quote(str(self.pgpass), safe="/")
        return (
            f"postgresql+psycopg://{user}@127.0.0.1:{self.pg_port}/{database or self.pg_database}?passfile={passfile}"
        )

    def database_url(self, database: str | None = None, role: DatabaseRole = "owner") -> str:
        """The embedded database as `role`; the password is read by libpq from the pgpass file, never in the URL."""
        return self._pg_url(EMBEDDED_DATABASE_ROLES[role], database)

    def superuser_url(self, database: str | None = None) -> str:
        """The embedded cluster as its bootstrap superuser (for `hub up` and test databases only)."""
        return self._pg_url(self.pg_user, database)

    @property
    def kafka_ca_file(self) -> Path:
        """The embedded broker's CA certificate (public: partners are given it)."""
        return self.home.resolve() / "kafka" / "tls" / "ca.pem"

    @property
    def logs(self) -> Path:
        return self.home / "logs"


class KafkaSettings(BaseSettings):
    """The Kafka cluster the hub publishes to and consumes from (HUB_KAFKA_*)."""

    model_config = SettingsConfigDict(env_prefix="HUB_KAFKA_", frozen=True)

    bootstrap: str | None = None
    topic_prefix: str = "hub"
    partitions: int = 3
    username: str | None = None  # the SCRAM principal; unset on the embedded broker: the role's own (broker_access)
    password: SecretStr | None = None
    ca_file: Path | None = None  # the CA that signed the brokers' certificates; unset: the embedded hub CA, or the
    # system's trust store for an external cluster
    mechanism: ScramMechanism = "SCRAM-SHA-512"
    # How long the hub's topics keep messages (Kafka's retention.ms, set on every topic the hub creates). Only what
    # the topics still hold can be replayed; they hold pseudonymised envelopes that long (docs/replay.md). 365: a
    # protocol's yearly review can be replayed over a year of events, and no topic outlives the shortest retention
    # a packaged protocol grants (12 months); Kafka's own default (7 days) would leave almost nothing to replay.
    retention_days: int = Field(default=365, ge=1)

    @property
    def external(self) -> bool:
        return self.bootstrap is not None

    @property
    def servers(self) -> str:
        return self.bootstrap or LocalSettings().kafka_bootstrap

    def partner_topic(self, dataset: str, partner: str) -> str:
        """The topic on which `partner` publishes `dataset`."""
        return partner_topic(self.topic_prefix, dataset, partner)

    @property
    def dead_letter_topic(self) -> str:
        return dead_letter_topic(self.topic_prefix)

    @property
    def topic_configs(self) -> dict[str, str]:
        """The configuration every topic the hub creates is given (its retention)."""
        return {"retention.ms": str(self.retention_days * 24 * 60 * 60 * 1000)}


BrokerRole = Literal["admin", "worker"]


class BrokerCredentialsError(RuntimeError):
    """No credential to reach the broker with for a role (the message says which variables or file are needed)."""


def broker_access(role: BrokerRole) -> BrokerAccess:
    """How this process reaches Kafka: as HUB_KAFKA_USERNAME / HUB_KAFKA_PASSWORD when set; else, on the embedded
    broker, as the role's principal kept in the hub's home (`admin`: hub-admin, for the operator's commands;
    `worker`: `<prefix>.worker`, for `hub worker`). An external broker without a credential is an error."""
    kafka = KafkaSettings()
    ca_file = kafka.ca_file or (None if kafka.external else LocalSettings().kafka_ca_file)
    if kafka.username is not None or kafka.password is not None:
        if kafka.username is None or kafka.password is None:
            raise BrokerCredentialsError("set both HUB_KAFKA_USERNAME and HUB_KAFKA_PASSWORD, or neither")
        username, password = kafka.username, kafka.password
    elif kafka.external:
        raise BrokerCredentialsError(
            f"HUB_KAFKA_BOOTSTRAP names an external broker ({kafka.bootstrap}): set HUB_KAFKA_USERNAME and "
            "HUB_KAFKA_PASSWORD to its SCRAM principal (and HUB_KAFKA_CA_FILE unless its certificate is signed by a "
            "CA the system trusts)"
        )
    else:
        directory = secrets_dir(LocalSettings().home)
        name = KAFKA_ADMIN if role == "admin" else kafka_worker_file(kafka.topic_prefix)
        try:
            credential = read_credential(directory, name)
        except SecretFileError as exc:
            raise BrokerCredentialsError(
                f"no Kafka credential for the {role} of the embedded broker ({exc}); `hub up` makes it "
                "(with the same HUB_LOCAL_HOME and HUB_KAFKA_TOPIC_PREFIX)"
            ) from None
        username, password = credential.username, credential.password
    return BrokerAccess(
        servers=kafka.servers, username=username, password=password, ca_file=ca_file, mechanism=kafka.mechanism
    )


class DatabaseSettings(BaseSettings):
    """The PostGIS warehouse (HUB_DATABASE_*): one URL per role.

    HUB_DATABASE_URL is the owner (migrations and operator tools); HUB_DATABASE_WORKER_URL and
    HUB_DATABASE_API_URL are the loader's and the API's least-privileged roles. Unset, they are the embedded
    cluster's roles, or, when only HUB_DATABASE_URL names an external database, that same URL.
    """

    model_config = SettingsConfigDict(env_prefix="HUB_DATABASE_", frozen=True)

    url: str | None = None
    worker_url: str | None = None
    api_url: str | None = None
    pool_size: int | None = None  # None: WarehouseSettings' default
    max_overflow: int | None = None
    pool_timeout_s: float | None = None

    @property
    def external(self) -> bool:
        return self.url is not None

    def role_url(self, role: DatabaseRole = "owner") -> str:
        """The URL `role` connects with."""
        given = {"owner": self.url, "worker": self.worker_url, "api": self.api_url}[role]
        if given is not None:
            return given
        if self.url is not None:
            return self.url  # an external database given by one URL: every role is its user
        return LocalSettings().database_url(role=role)

    @property
    def resolved_url(self) -> str:
        return self.role_url("owner")

    def runtime_roles(self) -> tuple[str, str] | None:
        """The worker's and the API's role names, to be granted their privileges; None when either is the owner's
        (an external database given by one URL) or unnamed."""
        owner, worker, api = (urlsplit(self.role_url(role)).username for role in ("owner", "worker", "api"))
        if worker is None or api is None or owner in (worker, api):
            return None
        return unquote(worker), unquote(api)


class GeographySettings(GeocoderSettings, BaseSettings):
    """Which loaded boundary vintages the geocoder uses (HUB_GEO_*; defaults: GeocoderSettings')."""

    model_config = SettingsConfigDict(env_prefix="HUB_GEO_", frozen=True)


class ProtocolSettings(BaseSettings):
    """Where the information-sharing protocols are (HUB_PROTOCOLS_*): YAML files or directories."""

    model_config = SettingsConfigDict(env_prefix="HUB_PROTOCOLS_", frozen=True)

    paths: list[Path] = []  # empty: the protocols packaged with the hub


class IndicatorSettings(BaseSettings):
    """The directory of indicator YAML documents (HUB_INDICATORS_DIR)."""

    model_config = SettingsConfigDict(env_prefix="HUB_INDICATORS_", frozen=True)

    dir: Path | None = None  # None: the example indicators packaged with the hub


class WorkerEnvironment(BaseSettings):
    """How the warehouse loader batches and retries (HUB_WORKER_*; None: WorkerSettings' default)."""

    model_config = SettingsConfigDict(env_prefix="HUB_WORKER_", frozen=True)

    batch_size: int | None = None
    batch_seconds: float | None = None
    retry_max_seconds: float | None = None
    topic_refresh_seconds: float | None = None
    session_timeout_seconds: float | None = None
    instance_id: str | None = None  # static group membership (None, empty: dynamic)
    log_level: str | None = None
    metrics_port: int | None = None
    metrics_host: str | None = None
    ready_lag: int | None = None

    @field_validator("instance_id")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None  # HUB_WORKER_INSTANCE_ID= (e.g. compose's unset variable): dynamic membership


class ProducerEnvironment(ProducerSettings, BaseSettings):
    """Files a partner's producer holds (HUB_PRODUCER_*)."""

    model_config = SettingsConfigDict(env_prefix="HUB_PRODUCER_", frozen=True)


class ApiEnvironment(ApiSettings, BaseSettings):
    """Where the query API listens and its title (HUB_API_*; defaults: ApiSettings')."""

    model_config = SettingsConfigDict(env_prefix="HUB_API_", frozen=True)


class WebEnvironment(WebSettings, BaseSettings):
    """The web application's settings (HUB_WEB_*; `assets_dir` defaults to the checkout, where the set-up command
    installs the front-end packages)."""

    model_config = SettingsConfigDict(env_prefix="HUB_WEB_", frozen=True)

    assets_dir: Path = Path(__file__).resolve().parents[1]


def web_settings() -> WebSettings:
    """The web application's settings (HUB_WEB_*)."""
    return WebSettings.model_validate(WebEnvironment().model_dump())


def warehouse_settings(role: DatabaseRole = "owner") -> WarehouseSettings:
    """The warehouse database as `role`: `hub worker` is the worker, the API the api role, every other command
    the owner (HUB_DATABASE_URL / _WORKER_URL / _API_URL, else the embedded cluster's roles)."""
    database = DatabaseSettings()
    pool = database.model_dump(include={"pool_size", "max_overflow", "pool_timeout_s"}, exclude_none=True)
    return WarehouseSettings.model_validate({"url": database.role_url(role), **pool})


def geocoder_settings() -> GeocoderSettings:
    """The boundary and lookup vintages to geocode to (HUB_GEO_*)."""
    return GeocoderSettings.model_validate(GeographySettings().model_dump())


class WorkerSettingsError(ValueError):
    """HUB_WORKER_* settings that break their rules: one line per setting, naming the variable and the rule, never
    the value."""


def _worker_variable(loc: tuple[int | str, ...]) -> str:
    """The HUB_WORKER_* variable a settings error's location names (else the location itself)."""
    name = ".".join(map(str, loc))
    return f"HUB_WORKER_{name.upper()}" if name in WorkerEnvironment.model_fields else f"worker setting {name!r}"


def worker_settings() -> WorkerSettings:
    """The loader's broker access (as the worker), topics and batching (HUB_KAFKA_*, HUB_WORKER_*); a setting that
    breaks its rule raises WorkerSettingsError."""
    kafka = KafkaSettings()
    try:
        return WorkerSettings.model_validate(
            {
                "broker": broker_access("worker"),
                "topic_prefix": kafka.topic_prefix,
                "partitions": kafka.partitions,
                **WorkerEnvironment().model_dump(exclude_none=True),
            }
        )
    except ValidationError as exc:
        lines = [f"{_worker_variable(error['loc'])}: {error['msg']}" for error in exc.errors()]
        raise WorkerSettingsError("\n".join(lines)) from None


def producer_settings() -> ProducerSettings:
    """The partner's key file, code lists and vocabulary (HUB_PRODUCER_*)."""
    return ProducerSettings.model_validate(ProducerEnvironment().model_dump())


def api_settings() -> ApiSettings:
    """Where the API listens and its title (HUB_API_*), and the topic prefix it names partners' topics with
    (HUB_KAFKA_TOPIC_PREFIX)."""
    return ApiSettings.model_validate(
        {**ApiEnvironment().model_dump(exclude={"topic_prefix"}), "topic_prefix": KafkaSettings().topic_prefix}
    )


def protocol_paths() -> list[Path]:
    """HUB_PROTOCOLS_PATHS: protocol files or directories (empty: the packaged protocols)."""
    return list(ProtocolSettings().paths)


def indicators_dir() -> Path | None:
    """HUB_INDICATORS_DIR (None: the packaged example indicators)."""
    return IndicatorSettings().dir


def linkage_key_variables() -> dict[str, str]:
    """The HUB_LINKAGE_KEY_<DOMAIN> variables that are set, by name (the producer looks its domains up in them)."""
    return {name: value for name, value in os.environ.items() if name.startswith(LINKAGE_KEY_PREFIX)}
