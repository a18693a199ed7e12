"""Response schema of GET /v1/areas: the areas a caller's organisation serves."""

from __future__ import annotations

from pydantic import BaseModel

from warehouse.queries.aggregates import Level


class AreaOut(BaseModel):
    area_code: str
    area_name: str


class DeclaredAreaOut(BaseModel):
    """An area as a protocol in force declares it for the caller's organisation (a recipient's `area`)."""

    protocol: str
    level: Level
    codes: list[str]


class AreasResponse(BaseModel):
    level: Level
    areas: list[AreaOut]  # every area of `level` inside the declared areas
    declared: list[DeclaredAreaOut]
