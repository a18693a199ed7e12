"""The hub's refusals answer as FastAPI answers an HTTPException: the same status, `{"detail": ...}` and headers."""

from __future__ import annotations

import json

import pytest
from fastapi import HTTPException
from fastapi.exception_handlers import http_exception_handler
from starlette.requests import Request

from api.error_handlers import hub_error_response, status_of
from api.errors import BadParameter, BadRequest, Forbidden, HubError, NoGrant, NotAuthenticated, NotFound

REQUEST = Request({"type": "http", "method": "GET", "path": "/", "headers": []})


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotAuthenticated("x"), 401),
        (Forbidden("x"), 403),
        (NoGrant("x"), 403),
        (NotFound("x"), 404),
        (BadRequest("x"), 400),
        (BadParameter("x"), 422),
        (HubError("x"), 500),
    ],
)
def test_each_kind_of_refusal_has_its_status(error: HubError, status: int) -> None:
    assert status_of(error) == status


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("error", "headers"),
    [(NotAuthenticated("needs a key"), {"WWW-Authenticate": "Bearer"}), (NoGrant("no protocol in force"), None)],
)
async def test_a_refusal_is_answered_byte_for_byte_as_the_http_exception_it_replaces(
    error: HubError, headers: dict[str, str] | None
) -> None:
    ours = hub_error_response(REQUEST, error)
    theirs = await http_exception_handler(REQUEST, HTTPException(status_of(error), error.detail, headers))
    assert (ours.status_code, ours.body, ours.headers.items()) == (
        theirs.status_code,
        theirs.body,
        theirs.headers.items(),
    )
    assert json.loads(bytes(ours.body)) == {"detail": error.detail}
