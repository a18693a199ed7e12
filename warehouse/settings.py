"""Settings of the warehouse: which PostGIS database, and how many pooled connections an engine keeps."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class WarehouseSettings(BaseModel):
    """The database the warehouse lives in (a SQLAlchemy URL, e.g. postgresql+psycopg://user@host/hub)."""

    model_config = ConfigDict(frozen=True)

    url: str
    pool_size: int = 5
