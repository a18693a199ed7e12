"""One access record per API query: who asked, what, under which protocols, how many rows, with what status."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy import text

from api.auth import CallerDep
from warehouse.db import get_engine


@dataclass
class Access:
    """Filled in by the route: the protocol clauses it answered under and the rows it returned."""

    protocols: list[str] = field(default_factory=list)
    rows: int = 0


def record_access(request: Request, caller: CallerDep) -> Iterator[Access]:
    """Yield an Access for the route, then append the access record (also for refused requests)."""
    access = Access()
    status = 200
    try:
        yield access
    except HTTPException as exc:
        status = exc.status_code
        raise
    except Exception:
        status = 500
        raise
    finally:
        with get_engine().begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO access_log (org, role, endpoint, query, protocols, rows, status) "
                    "VALUES (:org, :role, :endpoint, CAST(:query AS jsonb), :protocols, :rows, :status)"
                ),
                {
                    "org": caller.org,
                    "role": caller.role,
                    "endpoint": request.url.path,
                    "query": json.dumps(dict(request.query_params)),
                    "protocols": access.protocols,
                    "rows": access.rows,
                    "status": status,
                },
            )


AccessDep = Annotated[Access, Depends(record_access)]
