"""`hub api`: serve the query API."""

from __future__ import annotations

import uvicorn

from deploy.settings import api_settings


def api() -> None:
    """Serve the query API (OpenAPI docs at /docs)."""
    settings = api_settings()
    uvicorn.run("deploy.api_app:app_from_environment", factory=True, host=settings.host, port=settings.port)
