"""One access record per API query: who asked, what, under which protocols, how many rows, with what status."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy import Engine

from api.auth import CallerDep
from api.caller import PUBLIC, Caller
from api.dependencies import EngineDep
from api.error_handlers import status_of
from api.errors import HubError
from sharing_protocols.release_record import ReleasedFigure
from warehouse.governance.access_log import write_access

PUBLIC_CALLER = Caller(PUBLIC, PUBLIC)


@dataclass
class Access:
    """Filled in by `api.reply.Reply` from the answer: the protocol clauses it was answered under, its rows and the
    figures it released (recorded only when the request succeeds)."""

    protocols: list[str] = field(default_factory=list)
    rows: int = 0
    released: list[ReleasedFigure] = field(default_factory=list)


def _record(request: Request, caller: Caller, engine: Engine) -> Iterator[Access]:
    access = Access()
    status = 200
    try:
        yield access
    except HTTPException as exc:
        status = exc.status_code
        raise
    except HubError as exc:
        status = status_of(exc)
        raise
    except RequestValidationError:
        status = 422
        raise
    except Exception:
        status = 500
        raise
    finally:
        write_access(
            engine,
            caller.org,
            caller.role,
            request.url.path,
            request.query_params,
            access.protocols,
            access.rows,
            status,
            access.released if status == 200 else (),
        )


def record_access(request: Request, caller: CallerDep, engine: EngineDep) -> Iterator[Access]:
    """Yield an Access for the reply, then append the access record (also for refused requests)."""
    yield from _record(request, caller, engine)


def record_public_access(request: Request, engine: EngineDep) -> Iterator[Access]:
    """The access record of a public request: always as the public, whatever key was sent."""
    yield from _record(request, PUBLIC_CALLER, engine)


AccessDep = Annotated[Access, Depends(record_access)]
PublicAccessDep = Annotated[Access, Depends(record_public_access)]
