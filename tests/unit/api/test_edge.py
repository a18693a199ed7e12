"""Whose bucket a request spends (`api.edge.rate_limited_as`): a key-shaped bearer token's key id, else a
session-token-shaped session cookie's digest, else the client's address, so no other header value ever becomes a
tracked caller."""

from __future__ import annotations

import base64
import hashlib

import pytest
from starlette.types import Scope

from api.edge import rate_limited_as

KEY_ID = "0123456789abcdef"
# shaped as secrets.token_urlsafe(32) makes a session token, but fixed: a test id must be the same in every process
SESSION = base64.urlsafe_b64encode(hashlib.sha256(b"a session token").digest()).rstrip(b"=").decode()


def _scope(
    authorization: bytes | None, client: tuple[str, int] | None = ("203.0.113.7", 5000), cookie: bytes | None = None
) -> Scope:
    headers = [(b"host", b"x")] + ([(b"authorization", authorization)] if authorization is not None else [])
    headers += [(b"cookie", cookie)] if cookie is not None else []
    return {"type": "http", "headers": headers, "client": client}


@pytest.mark.parametrize("value", [b"Bearer hub_%s_s3cret" % KEY_ID.encode(), b"bearer  hub_%s_a_b " % KEY_ID.encode()])
def test_a_key_shaped_bearer_token_counts_against_its_key_id(value: bytes) -> None:
    assert rate_limited_as(_scope(value)) == ("key", KEY_ID)


@pytest.mark.parametrize(
    "value",
    [
        None,
        b"Basic dXNlcjpwYXNz",
        b"Bearer hub_nosuchkey_notavalidsecret",  # not 16 hex digits
        b"Bearer hub_%s_" % KEY_ID.encode(),  # no secret
        b"Bearer xyz_%s_secret" % KEY_ID.encode(),
        b"Bearer hub_" + b"a" * 100_000 + b"_secret",
    ],
)
def test_anything_else_counts_against_the_address(value: bytes | None) -> None:
    assert rate_limited_as(_scope(value)) == ("address", "203.0.113.7")


def test_without_a_client_address_the_caller_is_unknown() -> None:
    assert rate_limited_as(_scope(None, client=None)) == ("address", "unknown")


@pytest.mark.parametrize(
    "cookie", [b"hub_session=%s" % SESSION.encode(), b"a=b; hub_session=%s; c=d" % SESSION.encode()]
)
def test_a_session_cookie_counts_against_its_session(cookie: bytes) -> None:
    digest = hashlib.sha256(SESSION.encode()).hexdigest()[:32]
    assert rate_limited_as(_scope(None, cookie=cookie)) == ("session", digest)


@pytest.mark.parametrize(
    "cookie",
    [
        b"hub_session=short",
        b"hub_session=" + b"a" * 44,
        b"other=%s" % SESSION.encode(),
        b"hub_session=" + b"a" * 42 + b"!",
        b"hub_session=" + b"a" * 100_000,
    ],
)
def test_a_cookie_not_shaped_as_a_session_counts_against_the_address(cookie: bytes) -> None:
    assert rate_limited_as(_scope(None, cookie=cookie)) == ("address", "203.0.113.7")


def test_a_key_beside_a_session_cookie_counts_against_the_key() -> None:
    cookie = b"hub_session=%s" % SESSION.encode()
    assert rate_limited_as(_scope(b"Bearer hub_%s_s3cret" % KEY_ID.encode(), cookie=cookie)) == ("key", KEY_ID)
