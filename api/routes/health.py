"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter

from api.dependencies import SessionDep
from warehouse.schema.db import ping

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(session: SessionDep) -> dict[str, str]:
    """Ok when the warehouse answers."""
    ping(session)
    return {"status": "ok"}
