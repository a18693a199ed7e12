"""The embedded hub's own service credentials under `<HUB_LOCAL_HOME>/secrets/` (directory 0700, files 0600).

Kafka's credentials are small JSON files `{"username": ..., "password": ...}` named `kafka-*.json`; PostgreSQL's
roles' passwords are bare `postgres-*` files, with the libpq `pgpass` made from them.
They are the accepted exception to "no credentials in files in clear" (like a .pgpass): the embedded broker and
the hub's own processes need them, and nothing else on the machine can read them.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

PASSWORD_BYTES = 32

KAFKA_ADMIN = "kafka-admin.json"  # hub-admin: the operator's tools (super user)
KAFKA_BROKER = "kafka-broker.json"  # hub-broker: inter-broker SCRAM (super user)
KAFKA_CONTROLLER = "kafka-controller.json"  # hub-controller: the controller listener, SASL PLAIN (super user)


class SecretFileError(RuntimeError):
    """A secrets file is missing or unreadable (the message names it, never its content)."""


class ServiceCredential(BaseModel):
    """A username and its password, as kept in one secrets file."""

    model_config = ConfigDict(frozen=True)

    username: str
    password: SecretStr


def secrets_dir(home: Path) -> Path:
    """<home>/secrets: the embedded hub's service credentials."""
    return home.resolve() / "secrets"


def kafka_worker_file(prefix: str) -> str:
    """The file of the worker principal of the topic prefix `prefix`."""
    return f"kafka-worker-{prefix}.json"


def new_password() -> str:
    """A random password (URL-safe, 256 bits)."""
    return secrets.token_urlsafe(PASSWORD_BYTES)


def ensure_private_dir(path: Path) -> Path:
    """`path` as a directory only its owner can enter (0700), made if missing."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def write_private(path: Path, content: bytes) -> None:
    """Write `content` to `path` with mode 0600 from the first byte (replacing the file atomically)."""
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
    partial.replace(path)


def ensure_password(path: Path) -> str:
    """The bare password kept in `path` (made with new_password() on first use), the file kept 0600."""
    if path.is_file():
        path.chmod(0o600)
        return path.read_text(encoding="utf-8").strip()
    made = new_password()
    write_private(path, (made + "\n").encode())
    return made


def write_credential(directory: Path, name: str, credential: ServiceCredential) -> Path:
    """Keep `credential` as `directory/name` (0600, directory 0700); returns the path."""
    path = ensure_private_dir(directory) / name
    body = {"username": credential.username, "password": credential.password.get_secret_value()}
    write_private(path, (json.dumps(body) + "\n").encode())
    return path


def read_credential(directory: Path, name: str) -> ServiceCredential:
    """The credential kept as `directory/name`; SecretFileError when it is missing or malformed."""
    path = directory / name
    try:
        return ServiceCredential.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        raise SecretFileError(f"{path} does not exist") from None
    except (OSError, ValidationError):
        raise SecretFileError(f"{path} is not a readable credential file") from None


def ensure_credential(directory: Path, name: str, username: str) -> ServiceCredential:
    """The credential in `directory/name`, made with a new random password when the file is missing."""
    try:
        existing = read_credential(directory, name)
    except SecretFileError:
        if (directory / name).exists():
            raise
    else:
        if existing.username == username:
            return existing
    credential = ServiceCredential(username=username, password=SecretStr(new_password()))
    write_credential(directory, name, credential)
    return credential
