"""Who is calling: an API key's organisation and role, or the public."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session

from api.access_record import access_of
from api.caller import HUB_OPERATOR, PUBLIC, Caller
from api.dependencies import EngineDep
from api.errors import Forbidden, NotAuthenticated
from api.web_session import COOKIE, CSRF_HEADER, SAFE_METHODS, cookie_session, csrf_matches
from warehouse.governance.keys import verify_key

__all__ = [
    "HUB_OPERATOR",
    "PUBLIC",
    "Caller",
    "CallerDep",
    "IgLeadDep",
    "bearer_token",
    "get_caller",
    "require_ig_lead",
]


def bearer_token(authorization: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` header's value, or None for another scheme."""
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def get_caller(request: Request, engine: EngineDep, authorization: Annotated[str | None, Header()] = None) -> Caller:
    """The caller named by `Authorization: Bearer <key>`; without the header, by the web session cookie
    (`api.web_session`); without either, the public.

    The key (or session) is checked, and its use recorded, before the request goes on: a key's statements each
    commit by themselves (autocommit: no BEGIN or COMMIT round trips for the usual check, which writes nothing).
    A refused key or session (unknown, revoked, ended or expired alike) is recorded in the access log (by
    `api.edge`) as organisation "unknown", role "none", with the 401. A cookie-authenticated request that may
    change state (not GET, HEAD or OPTIONS) without the session's CSRF token in `X-CSRF-Token` is refused 403.
    """
    access = access_of(request)
    if authorization is None:
        access.caller = _session_caller(request, engine)
        return access.caller
    token = bearer_token(authorization)
    owner = None
    if token is not None:
        with Session(engine.execution_options(isolation_level="AUTOCOMMIT")) as session:
            owner = verify_key(session, token)
    if owner is None:
        access.caller = Caller("unknown", "none")
        raise NotAuthenticated("invalid, revoked or expired API key")
    access.caller = Caller(owner.org, owner.role)
    return access.caller


def _session_caller(request: Request, engine: EngineDep) -> Caller:
    """The caller of the request's session cookie; the public without one."""
    access = access_of(request)
    found = cookie_session(request, engine)
    if found is None:
        return Caller(PUBLIC, PUBLIC)
    if found.caller is None:
        access.caller = Caller("unknown", "none")
        raise NotAuthenticated("signed out, expired or unknown session: sign in again")
    access.caller = found.caller
    if request.method not in SAFE_METHODS and not csrf_matches(
        request.cookies[COOKIE], request.headers.get(CSRF_HEADER)
    ):
        raise Forbidden(f"a signed-in page's request that changes state must carry its {CSRF_HEADER} header")
    return found.caller


CallerDep = Annotated[Caller, Depends(get_caller)]


async def require_ig_lead(caller: CallerDep) -> Caller:
    if caller.role != "ig_lead":
        raise Forbidden("this endpoint is for information-governance leads")
    return caller


IgLeadDep = Annotated[Caller, Depends(require_ig_lead)]
