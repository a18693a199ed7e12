"""Prometheus metrics of the API's requests: how many and how long, by method, route template and status.

The labels are bounded sets: the route's template (`/v1/areas/{code}`), never the path a caller sent, so no area
code, id or made-up path becomes a label (paths that match no route are `unmatched`); methods outside the standard
ones are `other`. Each app has a registry of its own (several apps in one process, as in the tests, do not mix).
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Histogram
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"


def method_label(method: str) -> str:
    """The request's method, or `other` for one outside the standard set."""
    return method if method in METHODS else "other"


def route_label(scope: Scope) -> str:
    """The template of the route that answered the request (a mount's prefix with `/{path}`; a known path's
    also when the method was refused), else `unmatched`."""
    route = scope.get("route")
    template = getattr(route, "path_format", None)
    if isinstance(template, str):
        return template
    app = scope.get("app")
    routes = getattr(getattr(app, "router", None), "routes", ())
    for candidate in routes:  # what routing did not note in the scope: a mount (static files), a plain Route
        match, _ = candidate.matches({**scope, "type": "http"})
        if match == Match.NONE:
            continue
        if isinstance(candidate, Mount):
            return f"{candidate.path}/{{path}}"
        found = getattr(candidate, "path_format", None)  # a known route, another method (405)
        return found if isinstance(found, str) else UNMATCHED
    return UNMATCHED


class RequestMetrics:
    """The API's request histogram, in its own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.duration = Histogram(
            "hub_api_request_duration_seconds",
            "Time to answer an API request, by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )


class RequestMetricsMiddleware:
    """ASGI middleware timing every HTTP request into `metrics` (from the call until the answer is sent)."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            labels = (method_label(str(scope.get("method", ""))), route_label(scope), str(status))
            self.metrics.duration.labels(*labels).observe(time.perf_counter() - started)
