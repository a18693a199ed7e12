"""Signing in with an API key, signing out, and `/web/` (the signed-in person's home).

Sign-in is protected against login CSRF by a double submit: the form's hidden `login_token` must equal the
pre-session cookie the form page set. Attempts are rate limited per address (`WebSettings.sign_ins_per_minute`,
`api.rate_limit`). A successful sign-in always starts a new session (a cookie the browser already held is ended,
never reused) and returns to `next` only when that is a path on this site.
"""

from __future__ import annotations

import re
import secrets
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from api.access_record import access_of
from api.caller import Caller
from api.dependencies import EngineDep
from api.rate_limit import RateLimiter
from api.web_session import COOKIE, SessionTimes, cookie_session, csrf_matches, session_times
from warehouse.governance.keys import verify_key
from warehouse.governance.web_sessions import end_session, start_session
from web.navigation import home
from web.templating import render
from web.viewer import Viewer, signed_in

router = APIRouter(prefix="/web", include_in_schema=False)

LOGIN_COOKIE = "hub_sign_in"  # the pre-session cookie of the sign-in form's double submit
SIGN_IN = "/web/sign-in"
_LOGIN_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)
_MAX_FORM = 8 * 1024  # a sign-in or sign-out form is a few hundred bytes
_NO_SIGN_IN = {"public": "A public key cannot sign in: the public figures need no key (the API's /v1/public)."}


def local_path(target: str | None) -> str | None:
    """`target` when it is a path on this site (`/...`), else None: never another site's address (`//host`,
    `/\\host`, which browsers read as `//host`) or one with control characters or spaces (which browsers strip)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if "\\" in target or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in target):
        return None
    return target


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _times(request: Request) -> SessionTimes:
    times = session_times(request)
    if times is None:
        raise RuntimeError("the web application is not installed: no session times on app.state")
    return times


async def form_fields(request: Request) -> dict[str, str]:
    """A dependency: the fields of a URL-encoded form (none when it is larger than a form of these pages can be:
    read no further than that, whatever the request says of its length)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > _MAX_FORM:
        return {}
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_FORM:
            return {}
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


FormDep = Annotated[dict[str, str], Depends(form_fields)]


def _sign_in_page(
    request: Request, status_code: int = 200, error: str | None = None, next_path: str | None = None
) -> Response:
    """The sign-in form, with its login token in the hidden field and the pre-session cookie."""
    token = request.cookies.get(LOGIN_COOKIE, "")
    if not _LOGIN_TOKEN.fullmatch(token):
        token = secrets.token_urlsafe(32)
    response = render(
        request,
        "sign_in.html",
        None,
        status_code,
        error=error,
        expired=request.query_params.get("expired") == "1",
        next_path=next_path,
        login_token=token,
    )
    response.set_cookie(
        LOGIN_COOKIE, token, max_age=3600, path=SIGN_IN, secure=_secure(request), httponly=True, samesite="strict"
    )
    return response


@router.get("/sign-in")
def sign_in_form(request: Request) -> Response:
    """The sign-in page: an API key, a notice when a session expired, and where to return to."""
    return _sign_in_page(request, next_path=local_path(request.query_params.get("next")))


@router.post("/sign-in")
def sign_in(request: Request, engine: EngineDep, form: FormDep) -> Response:
    """Sign in with an API key: a new session cookie and a redirect (303) to `next` or the role's home."""
    next_path = local_path(form.get("next"))
    limiter = request.app.state.sign_in_limiter
    assert isinstance(limiter, RateLimiter)
    client = request.client.host if request.client else "unknown"
    wait = limiter.take(f"address:{client}", request.app.state.web_settings.sign_ins_per_minute)
    if wait is not None:
        response = _sign_in_page(request, 429, f"Too many sign-in attempts: try again in {wait} seconds", next_path)
        response.headers["Retry-After"] = str(wait)
        return response
    sent, expected = form.get("login_token", ""), request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not secrets.compare_digest(sent.encode(), expected.encode()):
        return _sign_in_page(request, 403, "Your sign-in form had expired: enter your API key again", next_path)
    key = form.get("key", "").strip()
    with Session(engine) as session, session.begin():
        owner = verify_key(session, key) if key else None
        refusal = _NO_SIGN_IN.get(owner.role) if owner is not None else None
        if owner is None or refusal is not None:
            access_of(request).caller = Caller("unknown", "none") if owner is None else Caller(owner.org, owner.role)
            error = refusal or (
                "Enter your API key" if not key else "Enter a valid API key: this one is unknown, revoked or expired"
            )
            return _sign_in_page(request, 401 if owner is None else 403, error, next_path)
        old = request.cookies.get(COOKIE)
        if old:
            end_session(session, old)  # never carry on a session the browser held before (session fixation)
        times = _times(request)
        token = start_session(session, owner, times.lifetime)
    access_of(request).caller = Caller(owner.org, owner.role)
    response = RedirectResponse(next_path or home(owner.role) or SIGN_IN, status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(times.lifetime.total_seconds()),
        path="/",
        secure=_secure(request),
        httponly=True,
        samesite="strict",
    )
    response.delete_cookie(LOGIN_COOKIE, path=SIGN_IN, secure=_secure(request), httponly=True, samesite="strict")
    return response


@router.post("/sign-out")
def sign_out(request: Request, engine: EngineDep, form: FormDep) -> Response:
    """End the session (its form carries the session's CSRF token), clear the cookie, back to sign-in (303)."""
    token = request.cookies.get(COOKIE)
    if token:
        found = cookie_session(request, engine)
        if found is not None and found.caller is not None:
            access_of(request).caller = found.caller  # the access log records who signed out
        if not csrf_matches(token, form.get("csrf_token")):
            heading, message = "Your request could not be checked", "Sign out again from a page of this site."
            return render(request, "problem.html", None, 403, heading=heading, message=message)
        with Session(engine) as session, session.begin():
            end_session(session, token)
    response = RedirectResponse(SIGN_IN, status_code=303)
    response.delete_cookie(COOKIE, path="/", secure=_secure(request), httponly=True, samesite="strict")
    return response


@router.get("/")
def web_home(viewer: Annotated[Viewer, Depends(signed_in)]) -> Response:
    """The signed-in person's home page (303)."""
    return RedirectResponse(home(viewer.caller.role) or SIGN_IN, status_code=303)
