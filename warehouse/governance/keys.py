"""API keys: one per organisation and role; the warehouse keeps only a SHA-256 of each random secret.

A key is refused as soon as it is revoked or its expiry passes: every check reads the table (no cache).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

ROLES = ("analyst", "ig_lead", "partner", "public")
_PREFIX = "hub"
_KEY_ID = re.compile(r"[0-9a-f]{16}")  # secrets.token_hex(8)

# last_used_at is written at most this often per key: a write per request would cost a row version (and a lock
# that serialises one key's concurrent requests) for a figure an IG lead reads to the day; access_log has each use.
LAST_USED_RESOLUTION = "1 minute"
# a key's last use is due to be written (checked again by the UPDATE: two requests may both have read it stale)
_STALE = "(last_used_at IS NULL OR last_used_at <= now() - CAST(:every AS interval))"


@dataclass(frozen=True)
class KeyOwner:
    """Who a valid key belongs to."""

    key_id: str
    org: str
    role: str


@dataclass(frozen=True)
class KeyRecord:
    """One key as `hub keys list` shows it: never its secret or hash."""

    key_id: str
    org: str
    role: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    status: str  # active, expired or revoked (revoked wins)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(session: Session, org: str, role: str, expires_at: datetime | None = None) -> str:
    """Issue a key for `org` in `role`, refused from `expires_at` (None: until revoked).

    Returns the token, which is shown once and never stored. Whether `org` may hold a key is
    `warehouse.governance.key_policy.check_key_org`'s question, asked by the caller.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if expires_at is not None and (expires_at.tzinfo is None or expires_at <= datetime.now(UTC)):
        raise ValueError("expires_at must be a timezone-aware moment in the future")
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    session.execute(
        text("INSERT INTO api_key (key_id, org, role, secret_sha256, expires_at) VALUES (:k, :o, :r, :s, :e)"),
        {"k": key_id, "o": org, "r": role, "s": _digest(secret), "e": expires_at},
    )
    return f"{_PREFIX}_{key_id}_{secret}"


def split_token(token: str) -> tuple[str, str] | None:
    """A token's key id and secret, or None when it does not have a key's shape (`hub_<16 hex>_<secret>`)."""
    prefix, _, rest = token.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != _PREFIX or not _KEY_ID.fullmatch(key_id) or not secret:
        return None
    return key_id, secret


def verify_key(session: Session, token: str) -> KeyOwner | None:
    """The owner of a key that is not revoked and not expired, or None for anything else.

    A valid use is recorded in `last_used_at` (at most once per LAST_USED_RESOLUTION) in `session`, which the
    caller commits.
    """
    parts = split_token(token)
    if parts is None:
        return None
    key_id, secret = parts
    row = session.execute(
        text(
            "SELECT org, role, secret_sha256, "
            f"{_STALE} AS stale FROM api_key WHERE key_id = :k AND revoked_at IS NULL "
            "AND (expires_at IS NULL OR expires_at > now())"
        ),
        {"k": key_id, "every": LAST_USED_RESOLUTION},
    ).first()
    if row is None or not hmac.compare_digest(str(row[2]), _digest(secret)):
        return None
    if row[3]:  # the row just read says the last use is older than the resolution: no statement otherwise
        session.execute(
            text(f"UPDATE api_key SET last_used_at = now() WHERE key_id = :k AND {_STALE}"),
            {"k": key_id, "every": LAST_USED_RESOLUTION},
        )
    return KeyOwner(key_id, str(row[0]), str(row[1]))


def revoke_key(session: Session, key_id: str) -> bool:
    """Revoke a key; False when there is no such unrevoked key."""
    result = session.execute(
        text("UPDATE api_key SET revoked_at = now() WHERE key_id = :k AND revoked_at IS NULL"), {"k": key_id}
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def list_keys(session: Session, org: str | None = None) -> list[KeyRecord]:
    """Every key (or `org`'s) by organisation, oldest first, with its state now."""
    rows = session.execute(
        text(
            "SELECT key_id, org, role, created_at, expires_at, last_used_at, revoked_at, "
            "CASE WHEN revoked_at IS NOT NULL THEN 'revoked' "
            "WHEN expires_at IS NOT NULL AND expires_at <= now() THEN 'expired' ELSE 'active' END "
            "FROM api_key WHERE CAST(:org AS text) IS NULL OR org = :org ORDER BY org, created_at, key_id"
        ),
        {"org": org},
    )
    return [KeyRecord(*row) for row in rows]
