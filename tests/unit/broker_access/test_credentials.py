"""BrokerAccess: every client option set is SASL_SSL, and the password is never shown."""

from __future__ import annotations

import ssl
from pathlib import Path

from pydantic import SecretStr

from broker_access.credentials import BrokerAccess


def test_kafka_python_options_authenticate_over_tls() -> None:
    access = BrokerAccess(servers="b1:9093,b2:9093", username="hub.partner", password=SecretStr("s3cret"),
                          ca_file=Path("/etc/hub/ca.pem"))  # fmt: skip
    options = access.kafka_python()
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("hub.partner", "s3cret")
    assert options["ssl_cafile"] == "/etc/hub/ca.pem"
    assert options["ssl_check_hostname"] is True
    assert options["bootstrap_servers"] == "b1:9093,b2:9093"


def test_aiokafka_options_authenticate_over_tls_and_check_the_broker_name() -> None:
    access = BrokerAccess(servers="b1:9093", username="hub.worker", password=SecretStr("s3cret"))
    options = access.aiokafka()
    assert (options["security_protocol"], options["sasl_mechanism"]) == ("SASL_SSL", "SCRAM-SHA-512")
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("hub.worker", "s3cret")
    context = options["ssl_context"]
    assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED
    assert options["bootstrap_servers"] == "b1:9093"


def test_the_password_is_not_in_the_settings_text() -> None:
    access = BrokerAccess(servers="b:9093", username="u", password=SecretStr("s3cret"))
    assert "s3cret" not in repr(access)
    assert "s3cret" not in str(access.model_dump())
