"""GET /v1/counts: event counts by area, month and category, within the caller's protocols."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel
from sqlalchemy import text

from api.access_log import AccessDep
from api.auth import CallerDep
from api.dependencies import RegisterDep, SessionDep
from api.grants import grant_for_counts
from sharing_protocols.catalogue import CATALOGUE
from sharing_protocols.precision import SpatialPrecision
from warehouse.queries import Level, count_events

router = APIRouter(prefix="/v1", tags=["counts"])

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
# The protocol precision a level needs: CSPs, counties and forces are made of whole districts.
_PRECISION: dict[Level, SpatialPrecision] = {
    Level.ward: "ward",
    Level.lsoa: "lsoa",
    Level.lad: "district",
    Level.csp: "district",
    Level.county: "district",
    Level.pfa: "district",
}


class CountOut(BaseModel):
    area_code: str
    area_name: str
    category: str | None
    period: str
    count: int | None  # None: suppressed under the disclosure rule


class UnlocatedOut(BaseModel):
    reason: str
    category: str | None
    period: str
    count: int | None


class CountsResponse(BaseModel):
    dataset: str
    level: Level
    protocols: list[str]
    disclosure: str
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
    caller: CallerDep,
    register: RegisterDep,
    access: AccessDep,
    dataset: str,
    from_: Annotated[str, Query(alias="from", description="first month, YYYY-MM")],
    to: Annotated[str, Query(description="last month, YYYY-MM")],
    level: Level = Level.ward,
    by: Annotated[list[Literal["category"]] | None, Query()] = None,
    vintage: Annotated[
        str | None, Query(description="ward level only: re-aggregate stored points to this loaded ward vintage")
    ] = None,
) -> CountsResponse:
    """Events per area and month (and category with by=category), as far as the caller's protocols allow.

    Only events released under a clause granting the caller are counted; unlocated events are listed apart.
    """
    if dataset not in CATALOGUE:
        raise HTTPException(status_code=404, detail=f"unknown dataset {dataset!r}")
    start, end = _month("from", from_), _month("to", to)
    if end < start:
        raise HTTPException(status_code=422, detail="to is before from")
    by_category = "category" in (by or [])
    if vintage is not None:
        if level is not Level.ward:
            raise HTTPException(status_code=422, detail="vintage applies to level=ward only")
        if (
            session.execute(
                text("SELECT 1 FROM area WHERE vintage = :v AND level = 'ward' LIMIT 1"), {"v": vintage}
            ).first()
            is None
        ):
            raise HTTPException(status_code=404, detail=f"no wards of vintage {vintage!r} are loaded")
    today = datetime.now(UTC).date()
    grant = grant_for_counts(register, caller.org, dataset, _PRECISION[level], by_category, today)
    access.protocols = grant.refs
    rows, unlocated = count_events(session, dataset, level, start, end, by_category, grant.refs, vintage)
    shown = grant.disclosure.apply if grant.disclosure else (lambda n: n)
    access.rows = len(rows) + len(unlocated)
    return CountsResponse(
        dataset=dataset,
        level=level,
        protocols=grant.refs,
        disclosure=str(grant.disclosure) if grant.disclosure else "record-level grant: exact counts",
        rows=[
            CountOut(
                area_code=r.area_code, area_name=r.area_name, category=r.category, period=r.period, count=shown(r.count)
            )
            for r in rows
        ],
        unlocated=[
            UnlocatedOut(reason=u.reason, category=u.category, period=u.period, count=shown(u.count)) for u in unlocated
        ],
    )
