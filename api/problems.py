"""RFC 9457 problem details: the one body of every 4xx and 5xx answer, and its declaration in the OpenAPI document.

A problem's `detail` and the `reason` of each field error are shown to the caller as they are, so they name
parameters and bounds, never the caller's bytes.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, Field
from starlette.responses import JSONResponse

from api.edge_checks import MAX_HEADER, MAX_HEADERS

PROBLEM_MEDIA_TYPE = "application/problem+json"
STATUS_TYPE = "https://www.rfc-editor.org/rfc/rfc9110#status."  # a problem's type: the status's definition
UNAVAILABLE_RETRY_AFTER_S = 30  # every 503's Retry-After: the warehouse is down, saturated or too slow for now


class FieldProblem(BaseModel):
    """One parameter (or body field) that was refused, and why."""

    parameter: str = Field(description="the query parameter, path segment, header or body field, e.g. items[1].lat")
    reason: str


class Problem(BaseModel):
    """An RFC 9457 problem detail; `errors` lists the refused fields of a validation failure."""

    type: str = Field(description="a URI naming the kind of problem (the HTTP status's definition)")
    title: str
    status: int
    detail: str
    instance: str = Field(description="the path of the request")
    errors: list[FieldProblem] | None = None


def problem_body(status: int, detail: str, instance: str, errors: list[FieldProblem] | None = None) -> Problem:
    """The problem detail of an answer with `status`."""
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    return Problem(
        type=f"{STATUS_TYPE}{status}", title=phrase, status=status, detail=detail, instance=instance, errors=errors
    )


def problem_response(
    status: int,
    detail: str,
    instance: str,
    errors: list[FieldProblem] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """An `application/problem+json` answer."""
    body = problem_body(status, detail, instance, errors).model_dump(exclude_none=True)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


_DECLARED = {
    400: "a malformed or refused parameter (control characters, a key in the query string, a value out of bounds)",
    401: "an invalid, revoked or expired API key",
    403: "the caller's role or protocols do not allow what was asked",
    404: "an unknown dataset, collection, feature, indicator, vintage or path",
    422: "parameters that do not validate or do not make sense together (`errors` names them)",
    429: "over the caller's requests a minute (per API key, or per address without one); `Retry-After` says when",
    431: f"request headers over {MAX_HEADERS} bytes in all or {MAX_HEADER} bytes in one",
    500: "an unexpected failure (reported without detail)",
    503: "the warehouse did not answer in time, or the access record could not be written; `Retry-After` says when",
}


def declared_problems() -> dict[int | str, dict[str, Any]]:
    """The error answers every operation declares in the OpenAPI document, each a `Problem`."""
    return {
        status: {"model": Problem, "description": text, "content": {PROBLEM_MEDIA_TYPE: {}}}
        for status, text in _DECLARED.items()
    }
