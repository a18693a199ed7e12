"""deploy.settings reads the HUB_* variables (and only it) and composes the packages' own settings from them."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from api.settings import ApiSettings
from broker_access.credentials import BrokerAccess
from deploy import settings
from deploy.home_secrets import ServiceCredential, write_credential
from geography.settings import GeocoderSettings
from producers.settings import ProducerSettings
from sharing_protocols.topics import dead_letter_topic, partner_topic, topic_source
from stream_processors.settings import WorkerSettings


@pytest.fixture(autouse=True)
def no_hub_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts from an environment without HUB_* variables."""
    for name in list(os.environ):
        if name.startswith("HUB_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize(
    ("composed", "expected"),
    [
        (
            lambda: settings.warehouse_settings().url,
            f"postgresql+psycopg://hub_owner@127.0.0.1:25432/hub?passfile={Path('.hub/secrets/pgpass').resolve()}",
        ),
        (lambda: settings.warehouse_settings().pool_size, 5),
        (settings.geocoder_settings, GeocoderSettings()),
        (settings.producer_settings, ProducerSettings()),
        (settings.api_settings, ApiSettings()),
        (settings.protocol_paths, []),
        (settings.indicators_dir, None),
        (settings.linkage_key_variables, {}),
    ],
    ids=[
        "warehouse-url",
        "warehouse-pool",
        "geocoder",
        "producer",
        "api",
        "protocol-paths",
        "indicators-dir",
        "linkage-keys",
    ],
)
def test_without_variables_the_packages_get_their_defaults_and_the_embedded_services(
    composed: Callable[[], object], expected: object
) -> None:
    assert composed() == expected


def test_the_database_variables_reach_the_warehouse_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_LOCAL_PG_PORT", "5999")
    assert settings.warehouse_settings().url.startswith("postgresql+psycopg://hub_owner@127.0.0.1:5999/hub?")
    monkeypatch.setenv("HUB_DATABASE_URL", "postgresql+psycopg://u@db.example:5432/w")
    monkeypatch.setenv("HUB_DATABASE_POOL_SIZE", "9")
    monkeypatch.setenv("HUB_DATABASE_MAX_OVERFLOW", "0")
    monkeypatch.setenv("HUB_DATABASE_POOL_TIMEOUT_S", "2.5")
    assert settings.warehouse_settings().model_dump() == {
        "url": "postgresql+psycopg://u@db.example:5432/w",
        "pool_size": 9,
        "max_overflow": 0,
        "pool_timeout_s": 2.5,
    }


def test_the_geography_variables_reach_the_geocoder_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_GEO_WARD_VINTAGE", "wards-2013")
    monkeypatch.setenv("HUB_GEO_LOOKUP_VINTAGE", "lookups-2023")
    assert settings.geocoder_settings() == GeocoderSettings(
        ward_vintage="wards-2013", lsoa_vintage="lsoa-2021", lookup_vintage="lookups-2023"
    )


def test_the_kafka_and_worker_variables_reach_the_worker_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    variables = {
        "HUB_KAFKA_BOOTSTRAP": "k1:9092,k2:9092",
        "HUB_KAFKA_USERNAME": "csp.worker",
        "HUB_KAFKA_PASSWORD": "s3cret",
        "HUB_KAFKA_CA_FILE": "/etc/hub/ca.pem",
        "HUB_KAFKA_MECHANISM": "SCRAM-SHA-256",
        "HUB_KAFKA_TOPIC_PREFIX": "csp",
        "HUB_KAFKA_PARTITIONS": "6",
        "HUB_WORKER_BATCH_SIZE": "100",
        "HUB_WORKER_BATCH_SECONDS": "0.2",
        "HUB_WORKER_RETRY_MAX_SECONDS": "4",
        "HUB_WORKER_TOPIC_REFRESH_SECONDS": "1.5",
        "HUB_WORKER_SESSION_TIMEOUT_SECONDS": "30",
        "HUB_WORKER_INSTANCE_ID": "hub-worker-0",
        "HUB_WORKER_LOG_LEVEL": "debug",
        "HUB_WORKER_METRICS_PORT": "9102",
        "HUB_WORKER_METRICS_HOST": "0.0.0.0",
        "HUB_WORKER_READY_LAG": "500",
    }
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    worker = settings.worker_settings()
    access = BrokerAccess(
        servers="k1:9092,k2:9092",
        username="csp.worker",
        password=SecretStr("s3cret"),
        ca_file=Path("/etc/hub/ca.pem"),
        mechanism="SCRAM-SHA-256",
    )
    assert worker == WorkerSettings(
        broker=access,
        topic_prefix="csp",
        partitions=6,
        batch_size=100,
        batch_seconds=0.2,
        retry_max_seconds=4.0,
        topic_refresh_seconds=1.5,
        session_timeout_seconds=30.0,
        instance_id="hub-worker-0",
        log_level="debug",
        metrics_port=9102,
        metrics_host="0.0.0.0",
        ready_lag=500,
    )
    assert worker.group == "csp-warehouse-loader"


def test_the_producer_api_protocol_and_indicator_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HUB_PRODUCER_KEYS_FILE", str(tmp_path / "keys"))
    monkeypatch.setenv("HUB_PRODUCER_CODE_LISTS_DIR", str(tmp_path / "lists"))
    monkeypatch.setenv("HUB_PRODUCER_VOCABULARY_FILE", str(tmp_path / "words"))
    monkeypatch.setenv("HUB_API_HOST", "0.0.0.0")
    monkeypatch.setenv("HUB_API_PORT", "8080")
    monkeypatch.setenv("HUB_API_STATEMENT_TIMEOUT_S", "2.5")
    monkeypatch.setenv("HUB_API_KEY_REQUESTS_PER_MINUTE", "50")
    monkeypatch.setenv("HUB_API_ADDRESS_REQUESTS_PER_MINUTE", "7")
    monkeypatch.setenv("HUB_API_RATE_LIMITED_CALLERS", "99")
    monkeypatch.setenv("HUB_API_READY_TIMEOUT_S", "0.5")
    monkeypatch.setenv("HUB_API_METRICS", "false")
    monkeypatch.setenv("HUB_PROTOCOLS_PATHS", json.dumps([str(tmp_path / "a"), str(tmp_path / "b.yaml")]))
    monkeypatch.setenv("HUB_INDICATORS_DIR", str(tmp_path / "indicators"))
    assert settings.producer_settings() == ProducerSettings(
        keys_file=tmp_path / "keys", code_lists_dir=tmp_path / "lists", vocabulary_file=tmp_path / "words"
    )
    assert settings.api_settings() == ApiSettings(
        host="0.0.0.0",
        port=8080,
        statement_timeout_s=2.5,
        key_requests_per_minute=50,
        address_requests_per_minute=7,
        rate_limited_callers=99,
        ready_timeout_s=0.5,
        metrics=False,
    )
    assert settings.protocol_paths() == [tmp_path / "a", tmp_path / "b.yaml"]
    assert settings.indicators_dir() == tmp_path / "indicators"


def test_only_the_linkage_key_variables_are_handed_to_the_producer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_LINKAGE_KEY_PERSON_EAST_SUSSEX", "k" * 40)
    monkeypatch.setenv("HUB_DATABASE_URL", "postgresql+psycopg://u@db/w")
    assert settings.linkage_key_variables() == {"HUB_LINKAGE_KEY_PERSON_EAST_SUSSEX": "k" * 40}


def test_topic_names_are_the_contract() -> None:
    assert partner_topic("hub", "police-uk-street", "sussex-police") == "hub.events.police-uk-street.sussex-police"
    assert dead_letter_topic("hub") == "hub.dead-letter"


def test_the_kafka_settings_use_the_contract_topic_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_KAFKA_TOPIC_PREFIX", "t1")
    kafka = settings.KafkaSettings()
    topic = kafka.partner_topic("police-uk-street", "sussex-police")
    assert topic == "t1.events.police-uk-street.sussex-police"
    assert topic_source("t1", topic) is not None
    assert kafka.dead_letter_topic == "t1.dead-letter"


def _embedded_home(monkeypatch: pytest.MonkeyPatch, home: Path) -> Path:
    """An embedded hub home whose secrets hold the admin's and the `hub` worker's credentials (as `hub up` keeps)."""
    monkeypatch.setenv("HUB_LOCAL_HOME", str(home))
    monkeypatch.setenv("HUB_LOCAL_KAFKA_PORT", "29092")
    for name, user in (("kafka-admin.json", "hub-admin"), ("kafka-worker-hub.json", "hub.worker")):
        write_credential(home / "secrets", name, ServiceCredential(username=user, password=SecretStr(f"{user}-pw")))
    return home


@pytest.mark.parametrize(("role", "username"), [("admin", "hub-admin"), ("worker", "hub.worker")])
def test_on_the_embedded_broker_each_role_signs_in_with_its_credential_from_the_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, role: settings.BrokerRole, username: str
) -> None:
    home = _embedded_home(monkeypatch, tmp_path)
    assert settings.broker_access(role) == BrokerAccess(
        servers="127.0.0.1:29092",
        username=username,
        password=SecretStr(f"{username}-pw"),
        ca_file=home / "kafka" / "tls" / "ca.pem",
    )


def test_the_worker_settings_carry_the_worker_principal_of_the_embedded_broker(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _embedded_home(monkeypatch, tmp_path)
    assert settings.worker_settings().broker.username == "hub.worker"


def test_the_credential_variables_win_over_the_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _embedded_home(monkeypatch, tmp_path)
    monkeypatch.setenv("HUB_KAFKA_USERNAME", "hub.partner.esfrs")
    monkeypatch.setenv("HUB_KAFKA_PASSWORD", "given")
    access = settings.broker_access("admin")
    assert (access.username, access.password.get_secret_value(), access.ca_file) == (
        "hub.partner.esfrs",
        "given",
        tmp_path / "kafka" / "tls" / "ca.pem",
    )


def test_a_worker_of_another_prefix_without_a_credential_is_told_to_run_hub_up(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _embedded_home(monkeypatch, tmp_path)
    monkeypatch.setenv("HUB_KAFKA_TOPIC_PREFIX", "other")
    with pytest.raises(settings.BrokerCredentialsError, match=r"kafka-worker-other\.json does not exist.*`hub up`"):
        settings.broker_access("worker")


def test_an_external_broker_without_a_credential_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_KAFKA_BOOTSTRAP", "kafka.example:9093")
    with pytest.raises(settings.BrokerCredentialsError, match="HUB_KAFKA_USERNAME and HUB_KAFKA_PASSWORD"):
        settings.broker_access("admin")


def test_a_username_without_a_password_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_KAFKA_USERNAME", "hub.worker")
    with pytest.raises(settings.BrokerCredentialsError, match="both HUB_KAFKA_USERNAME and HUB_KAFKA_PASSWORD"):
        settings.broker_access("worker")


def test_an_external_broker_trusts_the_system_store_unless_a_ca_file_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in (("BOOTSTRAP", "kafka.example:9093"), ("USERNAME", "u"), ("PASSWORD", "p")):
        monkeypatch.setenv(f"HUB_KAFKA_{name}", value)
    assert settings.broker_access("admin").ca_file is None


def test_the_api_statement_timeout_must_be_positive(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ApiSettings().statement_timeout_s == 15.0
    monkeypatch.setenv("HUB_API_STATEMENT_TIMEOUT_S", "0")
    with pytest.raises(ValidationError, match="statement_timeout_s"):
        settings.api_settings()


@pytest.mark.parametrize("name", ["key_requests_per_minute", "address_requests_per_minute", "rate_limited_callers"])
def test_the_api_rate_limits_must_be_positive(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert (ApiSettings().key_requests_per_minute, ApiSettings().address_requests_per_minute) == (120, 120)
    monkeypatch.setenv(f"HUB_API_{name.upper()}", "0")
    with pytest.raises(ValidationError, match=name):
        settings.api_settings()


def test_the_api_names_partners_topics_with_the_kafka_topic_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_KAFKA_TOPIC_PREFIX", "sussex")
    monkeypatch.setenv("HUB_API_TOPIC_PREFIX", "ignored")
    assert settings.api_settings().topic_prefix == "sussex"


def test_topics_keep_messages_365_days_unless_hub_kafka_retention_days_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert settings.KafkaSettings().topic_configs == {"retention.ms": str(365 * 86_400_000)}
    monkeypatch.setenv("HUB_KAFKA_RETENTION_DAYS", "30")
    assert settings.KafkaSettings().topic_configs == {"retention.ms": "2592000000"}
    monkeypatch.setenv("HUB_KAFKA_RETENTION_DAYS", "0")  # "keep nothing" is no retention a replay can use
    with pytest.raises(ValidationError):
        settings.KafkaSettings()
