"""The embedded broker's configuration: secured listeners, the authorizer, its own principals; old stores refused."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from deploy.home_secrets import ServiceCredential
from deploy.local.kafka_broker import KafkaBroker, broker_properties
from deploy.local.kafka_tls import BrokerTls
from deploy.local.processes import LocalInfraError
from deploy.settings import LocalSettings

BROKER = ServiceCredential(username="hub-broker", password=SecretStr("broker-pw"))
CONTROLLER = ServiceCredential(username="hub-controller", password=SecretStr("controller-pw"))


@pytest.fixture
def props(tmp_path: Path) -> dict[str, str]:
    settings = LocalSettings(home=tmp_path, kafka_port=29092, kafka_controller_port=29093)
    tls = BrokerTls(tmp_path / "kafka" / "tls", tmp_path / "secrets")
    return broker_properties(settings, tmp_path / "kafka" / "data", tls, BROKER, CONTROLLER)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("listeners", "SASL_SSL://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093"),
        ("advertised.listeners", "SASL_SSL://127.0.0.1:29092"),
        ("listener.security.protocol.map", "CONTROLLER:SASL_PLAINTEXT,SASL_SSL:SASL_SSL"),
        ("inter.broker.listener.name", "SASL_SSL"),
        ("listener.name.sasl_ssl.sasl.enabled.mechanisms", "SCRAM-SHA-512"),
        ("sasl.mechanism.inter.broker.protocol", "SCRAM-SHA-512"),
        ("listener.name.controller.sasl.enabled.mechanisms", "PLAIN"),
        ("sasl.mechanism.controller.protocol", "PLAIN"),
        ("ssl.keystore.type", "PEM"),
        ("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer"),
        ("allow.everyone.if.no.acl.found", "false"),
        ("super.users", "User:hub-admin;User:hub-broker;User:hub-controller"),
        ("auto.create.topics.enable", "false"),
    ],
)
def test_the_broker_is_secured(props: dict[str, str], key: str, value: str) -> None:
    assert props[key] == value


def test_the_keystore_and_truststore_are_the_hub_ca_files(props: dict[str, str], tmp_path: Path) -> None:
    tls = tmp_path / "kafka" / "tls"
    assert (props["ssl.keystore.location"], props["ssl.truststore.location"]) == (
        str(tls / "broker-keystore.pem"),
        str(tls / "ca.pem"),
    )


def test_the_broker_signs_in_to_itself_with_scram_as_hub_broker(props: dict[str, str]) -> None:
    assert props["listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config"] == (
        'org.apache.kafka.common.security.scram.ScramLoginModule required username="hub-broker" password="broker-pw";'
    )


def test_the_controller_listener_knows_only_hub_controller(props: dict[str, str]) -> None:
    assert props["listener.name.controller.plain.sasl.jaas.config"] == (
        'org.apache.kafka.common.security.plain.PlainLoginModule required username="hub-controller" '
        'password="controller-pw" user_hub-controller="controller-pw";'
    )


def test_no_listener_takes_plaintext_clients(props: dict[str, str]) -> None:
    protocols = {entry.split(":")[1] for entry in props["listener.security.protocol.map"].split(",")}
    assert protocols == {"SASL_SSL", "SASL_PLAINTEXT"}


def test_server_properties_are_written_readable_by_the_owner_only(tmp_path: Path) -> None:
    broker = KafkaBroker(LocalSettings(home=tmp_path))
    broker.root.mkdir(parents=True)
    broker._write_properties(BROKER, CONTROLLER)
    assert (stat.S_IMODE(broker.properties.stat().st_mode), "controller-pw" in broker.properties.read_text()) == (
        0o600,
        True,
    )


def test_a_store_formatted_before_security_is_refused_naming_what_to_remove(tmp_path: Path) -> None:
    broker = KafkaBroker(LocalSettings(home=tmp_path))
    broker.data.mkdir(parents=True)
    (broker.data / "meta.properties").write_text("version=1\n")
    with pytest.raises(LocalInfraError, match=rf"remove {broker.root} and run `hub up`"):
        broker.start()


def test_a_store_whose_principals_passwords_are_gone_is_refused(tmp_path: Path) -> None:
    broker = KafkaBroker(LocalSettings(home=tmp_path))
    broker.data.mkdir(parents=True)
    (broker.data / "meta.properties").write_text("version=1\n")
    broker.secured_marker.write_text("formatted\n")
    with pytest.raises(LocalInfraError, match=r"kafka-admin\.json, kafka-broker\.json in .* are gone"):
        broker.start()


def test_the_admin_access_is_hub_admin_over_sasl_ssl_trusting_the_hub_ca(tmp_path: Path) -> None:
    from deploy.home_secrets import write_credential

    write_credential(
        tmp_path / "secrets", "kafka-admin.json", ServiceCredential(username="hub-admin", password=SecretStr("pw"))
    )
    access = KafkaBroker(LocalSettings(home=tmp_path, kafka_port=29092)).admin_access()
    assert (access.servers, access.username, access.ca_file, access.kafka_python()["security_protocol"]) == (
        "127.0.0.1:29092",
        "hub-admin",
        tmp_path / "kafka" / "tls" / "ca.pem",
        "SASL_SSL",
    )
