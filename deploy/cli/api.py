"""`hub api`: serve the query API."""

from __future__ import annotations

import uvicorn

from api.settings import get_api_settings


def api() -> None:
    """Serve the query API (OpenAPI docs at /docs)."""
    settings = get_api_settings()
    uvicorn.run("api.factory:create_app", factory=True, host=settings.host, port=settings.port)
