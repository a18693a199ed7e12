"""The web session cookie as the API reads it: its name, the session it names, and the CSRF token derived from it.

A page signed in on the web application (`web`) calls the API with its session cookie instead of a key. The CSRF
token of a session is an HMAC-SHA256 keyed by the session token, so nothing more is stored; a cookie-authenticated
request that is not GET, HEAD or OPTIONS must carry it in `X-CSRF-Token`. How long a session may sit idle comes
from `app.state` (`SessionTimes`, set by the web application); without it no cookie is read.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from api.caller import Caller
from warehouse.governance.web_sessions import look_up_session, touch_session

COOKIE = "hub_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TIMES_STATE = "session_times"  # the attribute of app.state holding SessionTimes


@dataclass(frozen=True)
class SessionTimes:
    """How long a session lasts from sign-in (`lifetime`) and may sit unused (`idle`)."""

    lifetime: timedelta
    idle: timedelta


@dataclass(frozen=True)
class CookieSession:
    """What a request's session cookie names: the caller while the session is valid (else None, `expired` telling
    a session that ran out from an unknown or ended one), and the session's CSRF token."""

    caller: Caller | None
    csrf_token: str
    expired: bool = False


def csrf_token(token: str) -> str:
    """The CSRF token of the session `token`."""
    return hmac.new(token.encode(), b"hub csrf", hashlib.sha256).hexdigest()


def csrf_matches(token: str, sent: str | None) -> bool:
    """Whether `sent` is the CSRF token of the session `token` (compared in constant time)."""
    return sent is not None and hmac.compare_digest(sent.encode(), csrf_token(token).encode())


def session_times(connection: HTTPConnection) -> SessionTimes | None:
    """The app's session times, or None when the web application is not installed."""
    found = getattr(connection.app.state, TIMES_STATE, None)
    return found if isinstance(found, SessionTimes) else None


def cookie_session(connection: HTTPConnection, engine: Engine) -> CookieSession | None:
    """The session the request's cookie names (its use recorded), or None when it sends no session cookie (or no
    web application is installed)."""
    token = connection.cookies.get(COOKIE)
    times = session_times(connection)
    if not token or times is None:
        return None
    with Session(engine) as session, session.begin():
        found = look_up_session(session, token, times.idle)
        if found.owner is not None:
            touch_session(session, token)
    caller = Caller(found.owner.org, found.owner.role) if found.owner is not None else None
    return CookieSession(caller, csrf_token(token), found.expired)
