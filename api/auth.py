"""Who is calling: an API key's organisation and role, or the public."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session

from api.caller import HUB_OPERATOR, PUBLIC, Caller
from api.dependencies import EngineDep
from api.errors import Forbidden, NotAuthenticated
from warehouse.governance.access_log import write_access
from warehouse.governance.keys import verify_key

__all__ = ["HUB_OPERATOR", "PUBLIC", "Caller", "CallerDep", "IgLeadDep", "get_caller", "require_ig_lead"]


def get_caller(request: Request, engine: EngineDep, authorization: Annotated[str | None, Header()] = None) -> Caller:
    """The caller named by `Authorization: Bearer <key>`; without the header, the public.

    The key is checked (and its use recorded) in a transaction of its own, committed before the request goes on.
    A refused key (unknown, revoked or expired alike) is recorded in the access log (as organisation "unknown")
    before the 401.
    """
    if authorization is None:
        return Caller(PUBLIC, PUBLIC)
    scheme, _, token = authorization.partition(" ")
    owner = None
    if scheme.lower() == "bearer":
        with Session(engine) as session, session.begin():
            owner = verify_key(session, token.strip())
    if owner is None:
        write_access(engine, "unknown", "none", request.url.path, request.query_params, [], 0, 401)
        raise NotAuthenticated("invalid, revoked or expired API key")
    return Caller(owner.org, owner.role)


CallerDep = Annotated[Caller, Depends(get_caller)]


def require_ig_lead(caller: CallerDep) -> Caller:
    if caller.role != "ig_lead":
        raise Forbidden("this endpoint is for information-governance leads")
    return caller


IgLeadDep = Annotated[Caller, Depends(require_ig_lead)]
