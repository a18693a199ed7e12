"""One access record per API query: who asked, what, under which protocols, how many rows, with what status."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError

from api.auth import CallerDep
from api.dependencies import EngineDep
from warehouse.access import write_access


@dataclass
class Access:
    """Filled in by the route: the protocol clauses it answered under and the rows it returned."""

    protocols: list[str] = field(default_factory=list)
    rows: int = 0


def record_access(request: Request, caller: CallerDep, engine: EngineDep) -> Iterator[Access]:
    """Yield an Access for the route, then append the access record (also for refused requests)."""
    access = Access()
    status = 200
    try:
        yield access
    except HTTPException as exc:
        status = exc.status_code
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
        )


AccessDep = Annotated[Access, Depends(record_access)]
