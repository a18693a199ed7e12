"""The access record of one request, opened by `api.edge` before routing and filled in as the request goes on:
who the caller turned out to be, and (from `api.reply.Reply`) the clauses, rows and figures of the answer."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import HTTPConnection

from api.caller import Caller
from sharing_protocols.release_record import ReleasedAnswer

SCOPE_KEY = "hub.access"  # where the record lives in the ASGI scope


@dataclass
class Access:
    """What the access record says beyond the request itself; `released` is recorded only for a 200."""

    caller: Caller | None = None  # None: never established (then the public, or "unverified" when a key was sent)
    protocols: list[str] = field(default_factory=list)
    rows: int = 0
    released: ReleasedAnswer | None = None


def access_of(connection: HTTPConnection) -> Access:
    """The request's access record (a fresh one when the app runs without `api.edge`, e.g. in a unit test)."""
    found = connection.scope.get(SCOPE_KEY)
    if not isinstance(found, Access):
        found = connection.scope[SCOPE_KEY] = Access()
    return found
