"""Response schema of GET /v1/datasets: what the caller may ask the aggregate endpoints about."""

from __future__ import annotations

from pydantic import BaseModel

from warehouse.queries.aggregates import Level


class DatasetOut(BaseModel):
    """A dataset the caller's clauses in force let it count, and how: levels, categories and months with data."""

    dataset: str
    title: str
    kind: str
    levels: list[Level]  # the levels counts may be asked at, finest first
    by_category: bool  # whether counts may be grouped or filtered by category
    categories: list[str]  # the categories of the caller's events (none when by_category is false)
    first_month: str | None  # YYYY-MM: the first and last month with any of the caller's events (None: no events)
    last_month: str | None
    protocols: list[str]
