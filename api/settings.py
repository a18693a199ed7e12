"""Settings of the query API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ApiSettings(BaseModel):
    """Where the API listens, what it calls itself, and how long one request's statement may run in the warehouse
    (`statement_timeout_s`: longer is cancelled and answered 503)."""

    model_config = ConfigDict(frozen=True)

    host: str = "127.0.0.1"
    port: int = 8000
    title: str = "CSP information-sharing hub"
    statement_timeout_s: float = Field(default=15.0, gt=0)
