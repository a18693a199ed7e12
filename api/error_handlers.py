"""The one place refusals and failures become HTTP answers, each an RFC 9457 problem detail (`api.problems`).

The hub's own refusals (`api.errors`) keep their status; FastAPI's validation errors (422) name each refused
parameter; Starlette's 404 and 405 get the same body; a statement timeout or an unreachable warehouse is a 503.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from psycopg import errors as pg_errors
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from api.edge_checks import printable
from api.errors import BadParameter, BadRequest, Forbidden, HubError, NotAuthenticated, NotFound
from api.problems import UNAVAILABLE_RETRY_AFTER_S, FieldProblem, problem_response

STATUS: dict[type[HubError], int] = {
    NotAuthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    BadRequest: 400,
    BadParameter: 422,
}
HEADERS: dict[type[HubError], dict[str, str]] = {NotAuthenticated: {"WWW-Authenticate": "Bearer"}}
V = TypeVar("V")
log = logging.getLogger(__name__)


def _nearest(error: HubError, table: dict[type[HubError], V]) -> V | None:
    return next((table[kind] for kind in type(error).__mro__ if kind in table), None)


def status_of(error: HubError) -> int:
    """The HTTP status of a refusal (500 for a kind without one)."""
    return _nearest(error, STATUS) or 500


def parameter_name(loc: Sequence[int | str]) -> str:
    """A validation error's location as the caller names it: `from`, `collectionId`, `items[1].lat`."""
    where = list(loc[1:]) if loc and loc[0] in ("query", "path", "header", "cookie", "body") else list(loc)
    if loc and loc[0] == "body" and not where:
        return "body"
    name = ""
    for part in where:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "request"


def field_problems(errors: Sequence[Any]) -> list[FieldProblem]:
    """Pydantic's errors as (parameter, reason), without the input values they carry (a body field's name is the
    caller's: control characters replaced, bounded)."""
    return [
        FieldProblem(
            parameter="body" if e.get("type") == "json_invalid" else printable(parameter_name(e.get("loc", ())), 200),
            reason=printable(str(e.get("msg", "")), 500),
        )
        for e in errors
    ]


def hub_error_response(request: Request, exc: Exception) -> Response:
    """A hub refusal: its status, its detail and headers."""
    if not isinstance(exc, HubError):
        raise exc
    return problem_response(status_of(exc), exc.detail, request.url.path, headers=_nearest(exc, HEADERS))


def validation_error_response(request: Request, exc: Exception) -> Response:
    """FastAPI's 422, naming each parameter that did not validate."""
    if not isinstance(exc, RequestValidationError):
        raise exc
    problems = field_problems(exc.errors())
    detail = "invalid " + ", ".join(dict.fromkeys(p.parameter for p in problems))
    return problem_response(422, detail, request.url.path, errors=problems)


def http_error_response(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (an unknown path 404, a method not allowed 405 ...)."""
    if not isinstance(exc, HTTPException):
        raise exc
    detail = exc.detail if isinstance(exc.detail, str) else "refused"
    return problem_response(exc.status_code, detail, request.url.path, headers=dict(exc.headers or {}))


def database_error_response(request: Request, exc: Exception) -> Response:
    """A statement cut off by the API's statement timeout, or a warehouse that does not answer: 503."""
    if not isinstance(exc, DBAPIError):
        raise exc
    if isinstance(exc.orig, pg_errors.QueryCanceled):
        detail = "the query took longer than the API's statement timeout; ask for less (fewer areas or months)"
    elif exc.connection_invalidated or isinstance(exc.orig, pg_errors.OperationalError):
        detail = "the warehouse is not answering; try again later"
    else:
        raise exc
    log.warning("503 on %s: %s", request.url.path, type(exc.orig).__name__)
    return problem_response(503, detail, request.url.path, headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER_S)})


def install_error_handlers(app: FastAPI) -> None:
    """Answer every refusal raised by a route, dependency or service as a problem detail with its status."""
    app.add_exception_handler(HubError, hub_error_response)
    app.add_exception_handler(RequestValidationError, validation_error_response)
    app.add_exception_handler(HTTPException, http_error_response)
    app.add_exception_handler(DBAPIError, database_error_response)
