"""SCRAM salted passwords: RFC 7677's exchange reproduced from ours, and the same value as kafka-python's own."""

from __future__ import annotations

import base64
import hashlib
import hmac

from kafka.admin import UserScramCredentialUpsertion

from deploy.local.scram import ScramCredential, salted_password

# RFC 7677 section 3: user "user", password "pencil".
CLIENT_FIRST_BARE = "n=user,r=rOprNGfwEbeRWgbNEkqO"
SERVER_FIRST = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
CLIENT_FINAL_WITHOUT_PROOF = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
PROOF = "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
SERVER_SIGNATURE = "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="


def _exchange(salted: bytes) -> tuple[str, str]:
    """The client proof and server signature RFC 5802 derives from a salted password (sha256)."""
    auth = f"{CLIENT_FIRST_BARE},{SERVER_FIRST},{CLIENT_FINAL_WITHOUT_PROOF}".encode()
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    client_signature = hmac.new(hashlib.sha256(client_key).digest(), auth, "sha256").digest()
    proof = bytes(a ^ b for a, b in zip(client_key, client_signature, strict=True))
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    signature = hmac.new(server_key, auth, "sha256").digest()
    return base64.b64encode(proof).decode(), base64.b64encode(signature).decode()


def test_the_salted_password_gives_rfc_7677s_proof_and_server_signature() -> None:
    salted = salted_password("SCRAM-SHA-256", "pencil", base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096)
    assert _exchange(salted) == (PROOF, SERVER_SIGNATURE)


def test_the_sha512_salted_password_is_the_one_kafka_python_sends_to_the_broker() -> None:
    salt = bytes(range(32))
    theirs = UserScramCredentialUpsertion("u", "SCRAM-SHA-512", "correct horse", iterations=8192, salt=salt)
    assert salted_password("SCRAM-SHA-512", "correct horse", salt, 8192) == theirs.salted_password


def test_the_storage_tool_argument_carries_the_salt_and_salted_password_in_base64_never_the_password() -> None:
    salt = b"\x01" * 32
    credential = ScramCredential.for_password("SCRAM-SHA-512", "hub-admin", "not-on-the-command-line", salt)
    argument = credential.add_scram_argument()
    salted = base64.b64encode(salted_password("SCRAM-SHA-512", "not-on-the-command-line", salt, 8192)).decode()
    encoded_salt = base64.b64encode(salt).decode()
    expected = f'SCRAM-SHA-512=[name="hub-admin",iterations=8192,salt="{encoded_salt}",saltedpassword="{salted}"]'
    assert (argument, "not-on-the-command-line" in argument) == (expected, False)


def test_each_credential_gets_its_own_random_salt() -> None:
    first, second = (ScramCredential.for_password("SCRAM-SHA-512", "hub-admin", "same") for _ in range(2))
    assert (len(first.salt), first.salt != second.salt, first.salted_password != second.salted_password) == (
        32,
        True,
        True,
    )
