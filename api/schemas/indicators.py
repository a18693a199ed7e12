"""Response schema of GET /v1/indicators."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from warehouse.reference.indicator_registry import Baseline, Denominator, Direction, Level, MeasureKind


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
