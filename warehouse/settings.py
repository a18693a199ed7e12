"""Settings of the warehouse: which PostGIS database, and how many pooled connections an engine keeps."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class WarehouseSettings(BaseModel):
    """The database the warehouse lives in (a SQLAlchemy URL, e.g. postgresql+psycopg://user@host/hub)."""

    model_config = ConfigDict(frozen=True)

    url: str
    pool_size: int = 5
    max_overflow: int = 10  # connections beyond pool_size under a burst, closed when returned
    pool_timeout_s: float = 30.0  # how long a request waits for a pooled connection before giving up
