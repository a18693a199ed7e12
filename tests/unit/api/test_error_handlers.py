"""Every refusal is an RFC 9457 problem detail with its status; validation errors name parameters, not values."""

from __future__ import annotations

import json

import pytest
from starlette.requests import Request

from api.error_handlers import field_problems, hub_error_response, parameter_name, status_of
from api.errors import BadParameter, BadRequest, Forbidden, HubError, NoGrant, NotAuthenticated, NotFound

REQUEST = Request({"type": "http", "method": "GET", "path": "/v1/x", "headers": []})


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


@pytest.mark.parametrize(
    ("error", "status", "headers"),
    [
        (NotAuthenticated("needs a key"), 401, {"www-authenticate": "Bearer"}),
        (NoGrant("no protocol in force"), 403, {}),
        (BadRequest("from must be within the years 1900 to 2100"), 400, {}),
    ],
)
def test_a_refusal_is_a_problem_detail(error: HubError, status: int, headers: dict[str, str]) -> None:
    ours = hub_error_response(REQUEST, error)
    assert ours.status_code == status
    assert ours.headers["content-type"] == "application/problem+json"
    assert {k: v for k, v in ours.headers.items() if k == "www-authenticate"} == headers
    assert json.loads(bytes(ours.body)) == {
        "type": f"https://www.rfc-editor.org/rfc/rfc9110#status.{status}",
        "title": {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden"}[status],
        "status": status,
        "detail": error.detail,
        "instance": "/v1/x",
    }


@pytest.mark.parametrize(
    ("loc", "name"),
    [
        (("query", "from"), "from"),
        (("path", "collectionId"), "collectionId"),
        (("body", "items", 1, "lat"), "items[1].lat"),
        (("body",), "body"),
        (("query", "dataset", 0), "dataset[0]"),
    ],
)
def test_a_validation_error_is_named_as_the_caller_names_the_parameter(loc: tuple[str | int, ...], name: str) -> None:
    assert parameter_name(loc) == name


def test_a_field_problem_carries_the_reason_but_never_the_input() -> None:
    errors = [{"loc": ("query", "lat"), "msg": "Input should be a finite number", "input": "secret-ish"}]
    assert [p.model_dump() for p in field_problems(errors)] == [
        {"parameter": "lat", "reason": "Input should be a finite number"}
    ]
