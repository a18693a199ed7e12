"""The worker's faust app signs in as its BrokerAccess: aiokafka is handed SASL_SSL, SCRAM-SHA-512 and the CA."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from pydantic import SecretStr

from broker_access.credentials import BrokerAccess
from deploy.local.kafka_tls import BrokerTls
from stream_processors.app import consumer_settings


@pytest.fixture
def auth(tmp_path: Path) -> dict[str, object]:
    """What faust 0.15's aiokafka driver passes to every consumer, producer and admin client of the app."""
    tls = BrokerTls(tmp_path / "tls", tmp_path / "secrets")
    tls.ensure()
    access = BrokerAccess(
        servers="b1:9093,b2:9093", username="hub.worker", password=SecretStr("s3cret"), ca_file=tls.ca_file
    )
    settings = consumer_settings(access, batch_size=10)
    assert settings["broker"] == ["kafka://b1:9093", "kafka://b2:9093"]
    return dict(credentials_to_aiokafka_auth(settings["broker_credentials"]))


def test_aiokafka_gets_sasl_ssl_with_scram_sha_512(auth: dict[str, object]) -> None:
    assert (auth["security_protocol"], auth["sasl_mechanism"]) == ("SASL_SSL", "SCRAM-SHA-512")


def test_aiokafka_gets_the_workers_username_and_password(auth: dict[str, object]) -> None:
    assert (auth["sasl_plain_username"], auth["sasl_plain_password"]) == ("hub.worker", "s3cret")


def test_aiokafka_gets_a_tls_context_that_checks_the_broker_name_against_the_ca(auth: dict[str, object]) -> None:
    context = auth["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert (context.verify_mode, context.check_hostname, len(context.get_ca_certs())) == (ssl.CERT_REQUIRED, True, 1)
