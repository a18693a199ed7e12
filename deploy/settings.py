"""Where the hub's broker and database are: settings read from HUB_* environment variables.

When HUB_KAFKA_BOOTSTRAP or HUB_DATABASE_URL is set, that service is external and `hub up` starts nothing
for it; otherwise the embedded local service (see deploy.local) is used on a loopback port.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pydantic_settings import BaseSettings, SettingsConfigDict


class LocalSettings(BaseSettings):
    """The embedded broker and database that `hub up` manages (HUB_LOCAL_*)."""

    model_config = SettingsConfigDict(env_prefix="HUB_LOCAL_", frozen=True)

    home: Path = Path(".hub")
    kafka_port: int = 19092
    kafka_controller_port: int = 19093
    kafka_heap: str = "768m"
    pg_port: int = 25432
    pg_user: str = "hub"
    pg_database: str = "hub"
    shared_data: Path = Path("../shared/data")

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    def database_url(self, database: str | None = None) -> str:
        return f"postgresql+psycopg://{self.pg_user}@127.0.0.1:{self.pg_port}/{database or self.pg_database}"

    @property
    def logs(self) -> Path:
        return self.home / "logs"


class KafkaSettings(BaseSettings):
    """The Kafka cluster the hub publishes to and consumes from (HUB_KAFKA_*)."""

    model_config = SettingsConfigDict(env_prefix="HUB_KAFKA_", frozen=True)

    bootstrap: str | None = None
    topic_prefix: str = "hub"
    partitions: int = 3

    @property
    def external(self) -> bool:
        return self.bootstrap is not None

    @property
    def servers(self) -> str:
        return self.bootstrap or get_local_settings().kafka_bootstrap

    def topic(self, dataset: str) -> str:
        """The topic that carries one dataset's events."""
        return f"{self.topic_prefix}.events.{dataset}"

    @property
    def dead_letter_topic(self) -> str:
        return f"{self.topic_prefix}.dead-letter"


class DatabaseSettings(BaseSettings):
    """The PostGIS warehouse (HUB_DATABASE_*)."""

    model_config = SettingsConfigDict(env_prefix="HUB_DATABASE_", frozen=True)

    url: str | None = None
    pool_size: int = 5

    @property
    def external(self) -> bool:
        return self.url is not None

    @property
    def resolved_url(self) -> str:
        return self.url or get_local_settings().database_url()


class GeographySettings(BaseSettings):
    """Which loaded boundary vintages the geocoder uses (HUB_GEO_*)."""

    model_config = SettingsConfigDict(env_prefix="HUB_GEO_", frozen=True)

    ward_vintage: str = "wards-2024"
    lsoa_vintage: str | None = "lsoa-2021"  # used when loaded; otherwise events keep the partner's LSOA code
    lookup_vintage: str | None = "lookups-2024"  # ward -> district -> CSP -> county -> force, when loaded


@lru_cache
def get_geography_settings() -> GeographySettings:
    return GeographySettings()


class ProtocolSettings(BaseSettings):
    """Where the information-sharing protocols are (HUB_PROTOCOLS_*): YAML files or directories."""

    model_config = SettingsConfigDict(env_prefix="HUB_PROTOCOLS_", frozen=True)

    paths: list[Path] = []  # empty: the protocols packaged with the hub


@lru_cache
def get_protocol_settings() -> ProtocolSettings:
    return ProtocolSettings()


@lru_cache
def get_local_settings() -> LocalSettings:
    return LocalSettings()


@lru_cache
def get_kafka_settings() -> KafkaSettings:
    return KafkaSettings()


@lru_cache
def get_database_settings() -> DatabaseSettings:
    return DatabaseSettings()


def libpq_url(url: str) -> str:
    """A libpq URI from a SQLAlchemy-style URL (drops the "+driver" part)."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme == "postgres":
        scheme = "postgresql"
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))
