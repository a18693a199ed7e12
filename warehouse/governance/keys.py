"""API keys: one per organisation and role; the warehouse keeps only a SHA-256 of each random secret."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

ROLES = ("analyst", "ig_lead", "partner", "public")
_PREFIX = "hub"


@dataclass(frozen=True)
class KeyOwner:
    """Who a valid key belongs to."""

    key_id: str
    org: str
    role: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(session: Session, org: str, role: str) -> str:
    """Issue a key for `org` in `role`; returns the token, which is shown once and never stored."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    session.execute(
        text("INSERT INTO api_key (key_id, org, role, secret_sha256) VALUES (:k, :o, :r, :s)"),
        {"k": key_id, "o": org, "r": role, "s": _digest(secret)},
    )
    return f"{_PREFIX}_{key_id}_{secret}"


def verify_key(session: Session, token: str) -> KeyOwner | None:
    """The owner of an unrevoked key, or None for anything else."""
    prefix, _, rest = token.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != _PREFIX or not key_id or not secret:
        return None
    row = session.execute(
        text("SELECT org, role, secret_sha256 FROM api_key WHERE key_id = :k AND revoked_at IS NULL"), {"k": key_id}
    ).first()
    if row is None or not hmac.compare_digest(str(row[2]), _digest(secret)):
        return None
    return KeyOwner(key_id, str(row[0]), str(row[1]))


def revoke_key(session: Session, key_id: str) -> bool:
    """Revoke a key; False when there is no such unrevoked key."""
    result = session.execute(
        text("UPDATE api_key SET revoked_at = now() WHERE key_id = :k AND revoked_at IS NULL"), {"k": key_id}
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
