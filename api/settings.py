"""Settings of the query API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ApiSettings(BaseModel):
    """Where the API listens and what it calls itself."""

    model_config = ConfigDict(frozen=True)

    host: str = "127.0.0.1"
    port: int = 8000
    title: str = "CSP information-sharing hub"
