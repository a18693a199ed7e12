"""SCRAM credentials as Kafka stores them (RFC 5802 / RFC 7677): a salt, an iteration count and the salted password.

Used to bootstrap the embedded broker's own principals when its storage is formatted (`StorageTool format
--add-scram`), so that the broker is given the salted form, never the clear password.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass

from broker_access.credentials import ScramMechanism

ITERATIONS = 8192  # Kafka's minimum is 4096; its documentation's examples use 8192
SALT_BYTES = 32

_HASHES: dict[str, str] = {"SCRAM-SHA-512": "sha512", "SCRAM-SHA-256": "sha256"}


def salted_password(mechanism: ScramMechanism, password: str, salt: bytes, iterations: int) -> bytes:
    """SaltedPassword := Hi(Normalize(password), salt, i), Hi being PBKDF2 with HMAC over the mechanism's hash.

    The password is used as UTF-8 without SASLprep, as Kafka does (hub passwords are ASCII).
    """
    return hashlib.pbkdf2_hmac(_HASHES[mechanism], password.encode(), salt, iterations)


@dataclass(frozen=True)
class ScramCredential:
    """One principal's stored SCRAM credential (no clear password)."""

    mechanism: ScramMechanism
    username: str
    salt: bytes
    salted_password: bytes
    iterations: int = ITERATIONS

    @classmethod
    def for_password(
        cls, mechanism: ScramMechanism, username: str, password: str, salt: bytes | None = None
    ) -> ScramCredential:
        """The credential for `password`, with a new random salt unless one is given."""
        salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
        return cls(mechanism, username, salt, salted_password(mechanism, password, salt, ITERATIONS))

    def add_scram_argument(self) -> str:
        """The value of StorageTool's --add-scram for this credential (salt and salted password in base64)."""
        salt = base64.b64encode(self.salt).decode()
        salted = base64.b64encode(self.salted_password).decode()
        return (
            f'{self.mechanism}=[name="{self.username}",iterations={self.iterations},'
            f'salt="{salt}",saltedpassword="{salted}"]'
        )
