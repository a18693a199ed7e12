"""The sign-in and sign-out forms' body is read no further than a form of these pages can be: a client sending more
(saying so or not) gets no fields, and the rest of its body is never read."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.types import Message

from web.routes.session import form_fields

CHUNK = b"k" * 1024


def _request(chunks: int, headers: list[tuple[bytes, bytes]]) -> tuple[Request, list[int]]:
    """A POST whose body is `chunks` chunks of 1 KiB; the list counts the chunks the app asked for."""
    asked = [0]

    async def receive() -> Message:
        asked[0] += 1
        return {"type": "http.request", "body": CHUNK, "more_body": asked[0] < chunks}

    scope = {"type": "http", "method": "POST", "path": "/web/sign-in", "headers": headers, "query_string": b""}
    return Request(scope, receive), asked


def test_a_small_form_is_read_whole() -> None:
    async def receive() -> Message:
        return {"type": "http.request", "body": b"key=abc&login_token=t", "more_body": False}

    scope = {"type": "http", "method": "POST", "path": "/web/sign-in", "headers": [], "query_string": b""}
    assert asyncio.run(form_fields(Request(scope, receive))) == {"key": "abc", "login_token": "t"}


def test_a_body_without_a_length_is_read_only_up_to_the_limit() -> None:
    request, asked = _request(1_000_000, [])  # a gigabyte, never declared
    assert asyncio.run(form_fields(request)) == {}
    assert asked[0] <= 9  # 8 KiB and the chunk that passed it


def test_a_body_declared_too_long_is_not_read_at_all() -> None:
    request, asked = _request(1_000_000, [(b"content-length", str(1024**3).encode())])
    assert asyncio.run(form_fields(request)) == {}
    assert asked[0] == 0
