"""GET /v1/counts: event counts by area, month and category."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from api.dependencies import SessionDep
from sharing_protocols.catalogue import CATALOGUE
from warehouse.queries import Level, count_events

router = APIRouter(prefix="/v1", tags=["counts"])

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class CountOut(BaseModel):
    area_code: str
    area_name: str
    category: str | None
    period: str
    count: int


class UnlocatedOut(BaseModel):
    reason: str
    category: str | None
    period: str
    count: int


class CountsResponse(BaseModel):
    dataset: str
    level: Level
    rows: list[CountOut]
    unlocated: list[UnlocatedOut]


def _month(name: str, value: str) -> date:
    match = _MONTH.match(value)
    if not match:
        raise HTTPException(status_code=422, detail=f"{name} must be a month as YYYY-MM")
    return date(int(match[1]), int(match[2]), 1)


@router.get("/counts", response_model=CountsResponse)
def counts(
    session: SessionDep,
    dataset: str,
    from_: Annotated[str, Query(alias="from", description="first month, YYYY-MM")],
    to: Annotated[str, Query(description="last month, YYYY-MM")],
    level: Level = Level.ward,
    by: Annotated[list[Literal["category"]] | None, Query()] = None,
) -> CountsResponse:
    """Events per area and month (and category with by=category); unlocated events are listed apart."""
    if dataset not in CATALOGUE:
        raise HTTPException(status_code=404, detail=f"unknown dataset {dataset!r}")
    start, end = _month("from", from_), _month("to", to)
    if end < start:
        raise HTTPException(status_code=422, detail="to is before from")
    rows, unlocated = count_events(session, dataset, level, start, end, by_category="category" in (by or []))
    return CountsResponse(
        dataset=dataset,
        level=level,
        rows=[CountOut(**vars(r)) for r in rows],
        unlocated=[UnlocatedOut(**vars(r)) for r in unlocated],
    )
