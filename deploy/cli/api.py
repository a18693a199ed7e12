"""`hub api`: serve the query API."""

from __future__ import annotations

from typing import Any

import uvicorn

from deploy.settings import api_settings

# How uvicorn reads requests: with h11, handing the app a request line and headers of up to 1 MiB, so the edge
# (`api.edge_checks.oversized_headers`) refuses oversized headers with 431 and an access record; past 1 MiB
# uvicorn itself answers 400 and closes, before the app sees the request.
HTTP_OPTIONS: dict[str, Any] = {"http": "h11", "h11_max_incomplete_event_size": 1024 * 1024}


def api() -> None:
    """Serve the query API (OpenAPI docs at /docs)."""
    settings = api_settings()
    uvicorn.run(
        "deploy.api_app:app_from_environment", factory=True, host=settings.host, port=settings.port, **HTTP_OPTIONS
    )
