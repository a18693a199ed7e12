"""The embedded broker's TLS files: a CA, a broker certificate a client verifies for 127.0.0.1 and localhost, modes."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import stat
from pathlib import Path

import pytest
from cryptography import x509

from deploy.local.kafka_tls import BrokerTls


@pytest.fixture
def tls(tmp_path: Path) -> BrokerTls:
    made = BrokerTls(tmp_path / "kafka" / "tls", tmp_path / "secrets")
    made.ensure()
    return made


def _handshake(tls: BrokerTls, server_name: str) -> str:
    """A TLS handshake in memory: the broker's keystore serving, a client trusting only the CA file; the client's
    verdict ("ok" or the verification error)."""
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tls.keystore)  # key and certificate from the one PEM file, as Kafka reads it
    client = ssl.create_default_context(cafile=str(tls.ca_file))
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    client_side = client.wrap_bio(c_in, c_out, server_hostname=server_name)
    server_side = server.wrap_bio(s_in, s_out, server_side=True)
    for _ in range(10):
        for side in (client_side, server_side):
            try:
                side.do_handshake()
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLCertVerificationError as exc:
                return str(exc.verify_message)
        s_in.write(c_out.read())
        c_in.write(s_out.read())
    return "ok"


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost"])
def test_a_client_trusting_the_ca_verifies_the_broker_for_the_loopback_names(tls: BrokerTls, name: str) -> None:
    assert _handshake(tls, name) == "ok"


def test_a_client_refuses_the_broker_certificate_for_another_name(tls: BrokerTls) -> None:
    assert "mismatch" in _handshake(tls, "kafka.example.org").lower()


def test_the_broker_certificate_names_exactly_the_loopback_address_and_host(tls: BrokerTls) -> None:
    cert = x509.load_pem_x509_certificates(tls.keystore.read_bytes())[0]
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert (names.get_values_for_type(x509.IPAddress), names.get_values_for_type(x509.DNSName)) == (
        [ipaddress.ip_address("127.0.0.1")],
        ["localhost"],
    )


def test_the_keystore_holds_an_unencrypted_pkcs8_key_then_the_chain(tls: BrokerTls) -> None:
    text = tls.keystore.read_text()
    blocks = [line for line in text.splitlines() if line.startswith("-----BEGIN")]
    assert blocks == ["-----BEGIN PRIVATE KEY-----", "-----BEGIN CERTIFICATE-----", "-----BEGIN CERTIFICATE-----"]


@pytest.mark.parametrize(
    ("path", "mode"),
    [("kafka/tls/ca.pem", 0o644), ("kafka/tls/broker-keystore.pem", 0o600), ("secrets/kafka-ca-key.pem", 0o600)],
)
def test_only_the_ca_certificate_is_readable_by_others(tls: BrokerTls, tmp_path: Path, path: str, mode: int) -> None:
    assert stat.S_IMODE((tmp_path / path).stat().st_mode) == mode


def test_a_second_start_keeps_the_ca_and_the_broker_certificate(tls: BrokerTls) -> None:
    before = (tls.ca_file.read_bytes(), tls.keystore.read_bytes())
    tls.ensure()
    assert (tls.ca_file.read_bytes(), tls.keystore.read_bytes()) == before


def test_a_broker_certificate_near_its_end_is_renewed_under_the_same_ca(tls: BrokerTls) -> None:
    ca, keystore = tls.ca_file.read_bytes(), tls.keystore.read_bytes()
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=800)  # 825-day certificates
    tls.ensure(later)
    renewed = x509.load_pem_x509_certificates(tls.keystore.read_bytes())[0]
    renewed.verify_directly_issued_by(x509.load_pem_x509_certificate(ca))  # raises unless the same CA signed it
    assert (
        tls.ca_file.read_bytes() == ca,
        tls.keystore.read_bytes() != keystore,
        renewed.not_valid_after_utc > later,
    ) == (
        True,
        True,
        True,
    )
