"""The dependencies that fill in a request's access record (`api.access_record`; `api.edge` writes it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.access_record import Access, access_of
from api.auth import CallerDep
from api.caller import PUBLIC, Caller

__all__ = ["PUBLIC_CALLER", "Access", "AccessDep", "PublicAccessDep", "record_access", "record_public_access"]

PUBLIC_CALLER = Caller(PUBLIC, PUBLIC)


async def record_access(request: Request, caller: CallerDep) -> Access:
    """The request's access record, for the reply to fill in (the caller is already in it: `api.auth`)."""
    access = access_of(request)
    access.caller = caller
    return access


async def record_public_access(request: Request) -> Access:
    """The access record of a public request: always as the public, whatever key was sent."""
    access = access_of(request)
    access.caller = PUBLIC_CALLER
    return access


AccessDep = Annotated[Access, Depends(record_access)]
PublicAccessDep = Annotated[Access, Depends(record_public_access)]
