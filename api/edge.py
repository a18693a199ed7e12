"""The edge every HTTP request passes first: it holds each caller to its rate limit (429 with `Retry-After`,
`api.rate_limit`), refuses what must not reach the routes (`api.edge_checks`: 431, 400), and writes the request's one
access record before the answer leaves, whatever the answer is.

A caller is rate limited by the key id its `Authorization: Bearer hub_<id>_<secret>` header names (checked later by the
route, so a forged secret spends that id's requests), else by the web session its session cookie names once the API has
accepted that session (at the same rate as a key: people signed in from one office share an address; a cookie not
accepted counts as its address, so made-up cookies open no buckets), else by its address (`scope["client"]`); the
buckets are this process's own (the web application's scripts, style sheets and images, under /assets/ and /static/, are
not limited: files from disk, and a page asks for many at once; nor are the probes of `api.probes`, which are never
recorded either). The record is written when the answer's status is known (its first message), so refusals of every kind
(400, 401, 403, 404, 405, 422, 429, 431, 503) and failures are recorded with their status. If it cannot be written the
request fails closed: the caller gets a 503 instead of the answer. An exception no handler answered becomes a 500
problem detail (logged by type and place, never with the parameters' values).
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.access_record import SCOPE_KEY, Access
from api.auth import bearer_token
from api.caller import PUBLIC, Caller
from api.edge_checks import Refusal, logged_endpoint, logged_query, oversized_headers, refusal
from api.probes import PROBES
from api.problems import UNAVAILABLE_RETRY_AFTER_S, FieldProblem, problem_response
from api.rate_limit import RateLimiter
from api.settings import ApiSettings
from api.web_session import COOKIE
from warehouse.governance.access_log import write_access
from warehouse.governance.keys import split_token

log = logging.getLogger(__name__)
UNRECORDED = frozenset({"/openapi.json", "/docs", "/redoc"})  # not recorded when they succeed (probes: never)
UNRECORDED_UNDER = ("/assets/", "/static/")  # nor are the web application's scripts, style sheets and images
UNVERIFIED = Caller("unverified", "none")  # a key was sent but no route checked it (e.g. a 404 or an edge refusal)
_NOT_ACCEPTED = frozenset({"unknown", UNVERIFIED.org, PUBLIC})  # callers whose session cookie the API did not accept


def known_parameters(route: APIRoute) -> frozenset[str]:
    """The query parameters `route` takes, its dependencies' included (their names as sent: aliases)."""

    def names(dependant: Dependant) -> set[str]:
        found = {param.alias for param in dependant.query_params}
        return found.union(*(names(sub) for sub in dependant.dependencies))

    return frozenset(names(route.dependant))


def _authorization(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name.lower() == b"authorization":
            return bytes(value).decode("latin-1")
    return None


_SESSION_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32), as web sessions are made


def _session_cookie(scope: Scope) -> str | None:
    """The value of a session-token-shaped session cookie the request carries, or None."""
    for name, value in scope.get("headers", ()):
        if name.lower() == b"cookie" and len(value) <= 8192:
            for pair in bytes(value).decode("latin-1").split(";"):
                key, _, token = pair.strip().partition("=")
                if key == COOKIE and _SESSION_TOKEN.fullmatch(token):
                    return token
    return None


def rate_limited_as(scope: Scope) -> tuple[str, str]:
    """Whose requests this one counts against: ("key", its key id) when it carries a key-shaped bearer token,
    else ("session", a digest of its token) when it carries a session-token-shaped session cookie, else
    ("address", the client's address)."""
    authorization = _authorization(scope)
    token = bearer_token(authorization) if authorization is not None else None
    parts = split_token(token) if token is not None else None
    if parts is not None:
        return "key", parts[0]
    session = _session_cookie(scope) if authorization is None else None
    if session is not None:
        return "session", hashlib.sha256(session.encode()).hexdigest()[:32]
    return "address", _address(scope)


def _address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _caller(scope: Scope, access: Access) -> Caller:
    if access.caller is not None:
        return access.caller
    return UNVERIFIED if _authorization(scope) is not None else Caller(PUBLIC, PUBLIC)


class AccessEdge:
    """ASGI middleware: rate limits, edge refusals, the access record of every request, fail-closed, and the
    last-resort 500."""

    def __init__(self, app: ASGIApp, settings: ApiSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.limits = {
            "key": settings.key_requests_per_minute,
            "session": settings.key_requests_per_minute,
            "address": settings.address_requests_per_minute,
        }
        self.limiter = RateLimiter(settings.rate_limited_callers, clock)
        # Sessions the API has accepted (digests, least recently seen first): only these get a bucket of their own,
        # so made-up cookies cannot each open a new one; at most as many as the limiter tracks callers.
        self.accepted_sessions: OrderedDict[str, None] = OrderedDict()
        self.max_sessions = settings.rate_limited_callers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        access = scope[SCOPE_KEY] = Access()
        path: str = scope.get("path", "")
        pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        started = swallowing = False

        async def answer(message: Message) -> None:
            nonlocal started, swallowing
            if swallowing:
                return
            if message["type"] == "http.response.start" and not started:
                started = True
                if not await self._record(scope, access, pairs, int(message["status"])):
                    swallowing = True
                    detail = "the access record could not be written, so nothing is answered; try again later"
                    retry = {"Retry-After": str(UNAVAILABLE_RETRY_AFTER_S)}
                    await problem_response(503, detail, logged_endpoint(path), headers=retry)(scope, receive, send)
                    return
            await send(message)

        kind, who = rate_limited_as(scope)
        session = who if kind == "session" else None
        if session is not None and session not in self.accepted_sessions:
            kind, who = "address", _address(scope)  # a cookie not (yet) accepted counts as its address
        # The web pages' own files (served from disk) and the operator's probes are not limited.
        static = path.startswith(UNRECORDED_UNDER) or path in PROBES
        wait = None if static else self.limiter.take(f"{kind}:{who}", self.limits[kind])
        if wait is not None:
            whose = {"key": "API key", "session": "sign-in"}.get(kind, kind)
            detail = f"over {self.limits[kind]} requests a minute for this {whose}"
            headers = {"Retry-After": str(wait)}
            await problem_response(429, f"{detail}; try again in {wait} s", logged_endpoint(path), headers=headers)(
                scope, receive, answer
            )
            return
        refused = oversized_headers(scope.get("headers", ())) or refusal(path, pairs)
        if refused is not None:
            await _refuse(refused, path)(scope, receive, answer)
            return
        try:
            await self.app(scope, receive, answer)
            if session is not None and access.caller is not None and access.caller.org not in _NOT_ACCEPTED:
                self._accept(session)
        except Exception as exc:
            if started:
                raise
            frames = "".join(traceback.format_tb(exc.__traceback__))
            log.error("unexpected %s on %s\n%s", type(exc).__name__, logged_endpoint(path), frames)
            detail = "an unexpected failure; it has been logged"
            await problem_response(500, detail, logged_endpoint(path))(scope, receive, answer)

    def _accept(self, session: str) -> None:
        """Give the session (a digest) a bucket of its own from its next request on."""
        self.accepted_sessions[session] = None
        self.accepted_sessions.move_to_end(session)
        while len(self.accepted_sessions) > self.max_sessions:
            self.accepted_sessions.popitem(last=False)

    async def _record(self, scope: Scope, access: Access, pairs: list[tuple[str, str]], status: int) -> bool:
        """Write the access record of an answer with `status`; False when it could not be written."""
        path = scope.get("path", "")
        if path in PROBES:
            return True
        if (path in UNRECORDED or path.startswith(UNRECORDED_UNDER)) and status < 400:
            return True
        route = scope.get("route")
        query = logged_query(pairs, known_parameters(route) if isinstance(route, APIRoute) else ())
        caller = _caller(scope, access)
        released = access.released if status == 200 else None
        try:
            engine = _engine(scope)
            await run_in_threadpool(
                write_access,
                engine,
                caller.org,
                caller.role,
                logged_endpoint(path),
                query,
                access.protocols,
                access.rows,
                status,
                released,
            )
        except Exception as exc:
            log.error("access record not written (%s): answering 503 on %s", type(exc).__name__, logged_endpoint(path))
            return False
        return True


def _refuse(refused: Refusal, path: str) -> JSONResponse:
    problem = FieldProblem(parameter=refused.parameter, reason=refused.detail)
    return problem_response(refused.status, refused.detail, logged_endpoint(path), [problem])


def _engine(scope: Scope) -> Engine:
    app: Any = scope.get("app")
    engine = getattr(getattr(app, "state", None), "engine", None)
    if not isinstance(engine, Engine):
        raise RuntimeError("app.state.engine is not set: the app is used outside its lifespan")
    return engine
