"""The embedded broker's TLS: a hub CA and a broker certificate it signs, made on first start.

`<home>/kafka/tls/ca.pem` is the CA certificate partners are given (public). The CA's private key is kept in
`<home>/secrets/kafka-ca-key.pem` (0600) and is needed again only to renew the broker certificate. The broker
reads `<home>/kafka/tls/broker-keystore.pem` (0600): its unencrypted PKCS#8 key, its certificate (SAN
IP:127.0.0.1 and DNS:localhost) and the CA certificate, as Kafka's PEM keystore type accepts them.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from deploy.home_secrets import ensure_private_dir, write_private

CA_KEY_FILE = "kafka-ca-key.pem"
CA_DAYS = 3650
BROKER_DAYS = 825
RENEW_WITHIN = datetime.timedelta(days=30)
BROKER_HOSTS = ("localhost",)
BROKER_ADDRESSES = ("127.0.0.1",)


@dataclass(frozen=True)
class BrokerTls:
    """Where the embedded broker's TLS files are."""

    tls_dir: Path  # <home>/kafka/tls
    secrets_dir: Path  # <home>/secrets

    @property
    def ca_file(self) -> Path:
        return self.tls_dir / "ca.pem"

    @property
    def keystore(self) -> Path:
        return self.tls_dir / "broker-keystore.pem"

    @property
    def ca_key_file(self) -> Path:
        return self.secrets_dir / CA_KEY_FILE

    def ensure(self, now: datetime.datetime | None = None) -> None:
        """Make the CA unless it exists, and a broker certificate unless a valid one exists (renewed 30 days early)."""
        now = now or datetime.datetime.now(datetime.UTC)
        self.tls_dir.mkdir(parents=True, exist_ok=True)
        ca_key, ca_cert = self._ca(now)
        if not self._broker_valid(ca_cert, now):
            key = ec.generate_private_key(ec.SECP256R1())
            cert = broker_certificate(key, ca_key, ca_cert, now)
            write_private(self.keystore, _private_pem(key) + _pem(cert) + _pem(ca_cert))

    def _ca(self, now: datetime.datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        if self.ca_key_file.is_file() and self.ca_file.is_file():
            key = serialization.load_pem_private_key(self.ca_key_file.read_bytes(), password=None)
            if not isinstance(key, ec.EllipticCurvePrivateKey):
                raise ValueError(f"{self.ca_key_file} is not the hub CA's EC key")
            return key, x509.load_pem_x509_certificate(self.ca_file.read_bytes())
        key = ec.generate_private_key(ec.SECP256R1())
        cert = ca_certificate(key, now)
        ensure_private_dir(self.secrets_dir)
        write_private(self.ca_key_file, _private_pem(key))
        self.ca_file.write_bytes(_pem(cert))
        self.ca_file.chmod(0o644)
        self.keystore.unlink(missing_ok=True)  # signed by a CA that is gone
        return key, cert

    def _broker_valid(self, ca_cert: x509.Certificate, now: datetime.datetime) -> bool:
        if not self.keystore.is_file():
            return False
        certs = x509.load_pem_x509_certificates(self.keystore.read_bytes())
        return bool(certs) and certs[0].issuer == ca_cert.subject and certs[0].not_valid_after_utc - now > RENEW_WITHIN


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _name(common_name: str) -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "CSP hub"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ]
    return x509.Name(attributes)


_CA_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)


def ca_certificate(key: ec.EllipticCurvePrivateKey, now: datetime.datetime) -> x509.Certificate:
    """A self-signed CA certificate that may sign end-entity certificates only (path length 0)."""
    name = _name("CSP hub Kafka CA")
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_CA_USAGE, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def broker_certificate(
    key: ec.EllipticCurvePrivateKey, ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate, now: datetime.datetime
) -> x509.Certificate:
    """The broker's certificate, signed by the CA, for the loopback names clients connect to."""
    names: list[x509.GeneralName] = [x509.DNSName(host) for host in BROKER_HOSTS]
    names += [x509.IPAddress(ipaddress.ip_address(address)) for address in BROKER_ADDRESSES]
    return (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(min(now + datetime.timedelta(days=BROKER_DAYS), ca.not_valid_after_utc))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
