"""Web sessions: a person signs in with their API key and gets a random session token; the warehouse keeps only a
SHA-256 of it.

A session is refused from its absolute expiry, when idle longer than the idle limit since its last use, once ended
(signed out), and as soon as its key is revoked or expires: every check reads the tables (no cache).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from warehouse.governance.keys import KeyOwner

# last_seen_at is written at most this often per session (the idle limit is whole minutes): a write per request
# would cost a row version for every page's many API calls.
TOUCH_RESOLUTION = timedelta(seconds=15)


@dataclass(frozen=True)
class SessionLookup:
    """What a session token names now: its key's owner while the session is valid (else None), and whether the
    token was a real session that ran out (absolute or idle expiry) rather than unknown, ended or its key refused."""

    owner: KeyOwner | None
    expired: bool = False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, owner: KeyOwner, lifetime: timedelta) -> str:
    """A new session for a verified key's `owner` (`keys.verify_key`), refused after `lifetime`.

    Returns the token, which is never stored; `session` is committed by the caller.
    """
    token = secrets.token_urlsafe(32)
    session.execute(
        text(
            "INSERT INTO web_session (token_sha256, key_id, org, role, expires_at) "
            "VALUES (:t, :k, :o, :r, now() + CAST(:lifetime AS interval))"
        ),
        {"t": _digest(token), "k": owner.key_id, "o": owner.org, "r": owner.role, "lifetime": lifetime},
    )
    return token


def look_up_session(session: Session, token: str, idle: timedelta) -> SessionLookup:
    """Who the session `token` is for, if it is not ended, expired or idle longer than `idle`, and its key is
    neither revoked nor expired."""
    row = session.execute(
        text(
            "SELECT s.key_id, s.org, s.role, s.ended_at IS NULL, "
            "s.expires_at > now() AND s.last_seen_at > now() - CAST(:idle AS interval), "
            "k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now()) "
            "FROM web_session s JOIN api_key k ON k.key_id = s.key_id WHERE s.token_sha256 = :t"
        ),
        {"t": _digest(token), "idle": idle},
    ).first()
    if row is None or not row[3] or not row[5]:
        return SessionLookup(None)
    if not row[4]:
        return SessionLookup(None, expired=True)
    return SessionLookup(KeyOwner(str(row[0]), str(row[1]), str(row[2])))


def touch_session(session: Session, token: str) -> None:
    """Record a use of the session `token` (at most once per TOUCH_RESOLUTION), which restarts its idle limit."""
    session.execute(
        text(
            "UPDATE web_session SET last_seen_at = now() WHERE token_sha256 = :t AND ended_at IS NULL "
            "AND last_seen_at <= now() - CAST(:every AS interval)"
        ),
        {"t": _digest(token), "every": TOUCH_RESOLUTION},
    )


def end_session(session: Session, token: str) -> bool:
    """End the session `token` (sign-out); False when there was no such session still open."""
    result = session.execute(
        text("UPDATE web_session SET ended_at = now() WHERE token_sha256 = :t AND ended_at IS NULL"),
        {"t": _digest(token)},
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
