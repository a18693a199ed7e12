"""GET /v1/indicators: the scorecard indicator registry, for any caller with a key."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

from api.access_log import AccessDep
from api.auth import PUBLIC, CallerDep
from api.dependencies import SessionDep
from warehouse.indicator_registry import Baseline, Denominator, Direction, Level, MeasureKind
from warehouse.indicator_store import read_indicators

router = APIRouter(prefix="/v1", tags=["indicators"])


class IndicatorOut(BaseModel):
    id: str
    title: str
    definition: str
    owner: str
    dataset: str
    categories: list[str] | None
    attributes: dict[str, str | bool | int]
    measure: MeasureKind
    denominator: Denominator | None
    direction: Direction
    level: Level
    baseline: Baseline
    targets: dict[str, float]  # financial year -> target for every area
    area_targets: dict[str, dict[str, float]]  # area code -> financial year -> the area's own target
    tolerance_pct: float
    data_lag_months: int
    provisional_months: int  # the latest months of data that are provisional
    loaded_at: datetime


@router.get("/indicators", response_model=list[IndicatorOut])
def indicators(caller: CallerDep, session: SessionDep, access: AccessDep) -> list[IndicatorOut]:
    """The indicators of the scorecard: definition, owner, direction of good, baseline, targets and data lag."""
    if caller.role == PUBLIC:
        raise HTTPException(
            status_code=401, detail="the indicator registry needs an API key", headers={"WWW-Authenticate": "Bearer"}
        )
    out = [
        IndicatorOut(
            **entry.indicator.model_dump(exclude={"categories"}),
            categories=None if entry.indicator.categories is None else list(entry.indicator.categories),
            loaded_at=entry.loaded_at,
        )
        for entry in read_indicators(session)
    ]
    access.rows = len(out)
    return out
