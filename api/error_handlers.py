"""The one place the hub's refusals (`api.errors`) become HTTP answers: `{"detail": ...}` with their status."""

from __future__ import annotations

from typing import TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api.errors import BadParameter, BadRequest, Forbidden, HubError, NotAuthenticated, NotFound

STATUS: dict[type[HubError], int] = {
    NotAuthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    BadRequest: 400,
    BadParameter: 422,
}
HEADERS: dict[type[HubError], dict[str, str]] = {NotAuthenticated: {"WWW-Authenticate": "Bearer"}}
V = TypeVar("V")


def _nearest(error: HubError, table: dict[type[HubError], V]) -> V | None:
    return next((table[kind] for kind in type(error).__mro__ if kind in table), None)


def status_of(error: HubError) -> int:
    """The HTTP status of a refusal (500 for a kind without one)."""
    return _nearest(error, STATUS) or 500


def hub_error_response(request: Request, exc: Exception) -> JSONResponse:
    """A refusal as FastAPI answers an HTTPException: its detail as JSON, its status and headers."""
    if not isinstance(exc, HubError):
        raise exc
    return JSONResponse({"detail": exc.detail}, status_code=status_of(exc), headers=_nearest(exc, HEADERS))


def install_error_handlers(app: FastAPI) -> None:
    """Answer every `HubError` raised by a route, dependency or service with its HTTP status."""
    app.add_exception_handler(HubError, hub_error_response)
