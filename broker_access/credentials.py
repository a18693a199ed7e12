"""One client's access to the broker: where it is, the CA it trusts and the SCRAM principal it signs in as.

Producers (kafka-python), the worker (faust over aiokafka), `hub replay` (aiokafka) and the operator's tools all
take a BrokerAccess; each turns it into its own client's options. Every connection is SASL_SSL: there is no
unauthenticated mode.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, SecretStr

ScramMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256"]


class BrokerAccess(BaseModel):
    """The bootstrap servers, the CA that signed the broker's certificate, and a SCRAM username and password."""

    model_config = ConfigDict(frozen=True)

    servers: str  # comma-separated host:port of the SASL_SSL listener
    username: str
    password: SecretStr
    ca_file: Path | None = None  # None: the system's trust store
    mechanism: ScramMechanism = "SCRAM-SHA-512"

    def kafka_python(self) -> dict[str, Any]:
        """Keyword arguments for kafka-python's KafkaProducer, KafkaConsumer and KafkaAdminClient."""
        return {
            "bootstrap_servers": self.servers,
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": self.mechanism,
            "sasl_plain_username": self.username,
            "sasl_plain_password": self.password.get_secret_value(),
            "ssl_cafile": str(self.ca_file) if self.ca_file else None,
            "ssl_check_hostname": True,
        }

    def aiokafka(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka's AIOKafkaConsumer and AIOKafkaProducer (the client faust runs on)."""
        return {
            "bootstrap_servers": self.servers,
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": self.mechanism,
            "sasl_plain_username": self.username,
            "sasl_plain_password": self.password.get_secret_value(),
            "ssl_context": self.ssl_context(),
        }

    def ssl_context(self) -> ssl.SSLContext:
        """A client TLS context that verifies the broker against the CA (hostname checked)."""
        return ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
