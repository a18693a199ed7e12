"""Who is calling: an API key's organisation and role, or the public."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from api.dependencies import EngineDep, SessionDep
from warehouse.access import write_access
from warehouse.keys import verify_key

PUBLIC = "public"
HUB_OPERATOR = "hub"  # an ig_lead of this organisation oversees every protocol


@dataclass(frozen=True)
class Caller:
    """The organisation (a protocol recipient id) and role behind a request."""

    org: str
    role: str

    @property
    def oversees_everything(self) -> bool:
        return self.role == "ig_lead" and self.org == HUB_OPERATOR


def get_caller(
    request: Request, session: SessionDep, engine: EngineDep, authorization: Annotated[str | None, Header()] = None
) -> Caller:
    """The caller named by `Authorization: Bearer <key>`; without the header, the public.

    A refused key is recorded in the access log (as organisation "unknown") before the 401.
    """
    if authorization is None:
        return Caller(PUBLIC, PUBLIC)
    scheme, _, token = authorization.partition(" ")
    owner = verify_key(session, token.strip()) if scheme.lower() == "bearer" else None
    if owner is None:
        write_access(engine, "unknown", "none", request.url.path, request.query_params, [], 0, 401)
        raise HTTPException(
            status_code=401, detail="invalid or revoked API key", headers={"WWW-Authenticate": "Bearer"}
        )
    return Caller(owner.org, owner.role)


CallerDep = Annotated[Caller, Depends(get_caller)]


def require_ig_lead(caller: CallerDep) -> Caller:
    if caller.role != "ig_lead":
        raise HTTPException(status_code=403, detail="this endpoint is for information-governance leads")
    return caller


IgLeadDep = Annotated[Caller, Depends(require_ig_lead)]
