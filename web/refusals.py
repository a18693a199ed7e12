"""What a page answers when it cannot be shown: a redirect to sign-in (no valid session), the refusal page (a
role that may not see it, 403) and the page-not-found page for an unknown `/web/` path (404); never a stack
trace."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from web.navigation import ROLE_NAMES, home
from web.templating import render
from web.viewer import RoleRefused, SignInRequired

SIGN_IN = "/web/sign-in"

# Included last (after every page's router): any /web/ path no page answers.
not_found_router = APIRouter(include_in_schema=False)


def sign_in_redirect(request: Request, exc: Exception) -> Response:
    """303 to the sign-in page, which returns to the page asked for (and says so when the session expired)."""
    assert isinstance(exc, SignInRequired)
    query = {"next": exc.path, **({"expired": "1"} if exc.expired else {})}
    return RedirectResponse(f"{SIGN_IN}?{urlencode(query)}", status_code=303)


def refusal_page(request: Request, exc: Exception) -> Response:
    """403: "You cannot see this page", naming the roles that may."""
    assert isinstance(exc, RoleRefused)
    allowed = [ROLE_NAMES.get(role, role) for role in exc.roles]
    return render(request, "refused.html", exc.viewer, 403, allowed=allowed, home=home(exc.viewer.caller.role))


@not_found_router.api_route("/web/{rest:path}", methods=["GET", "HEAD"])
def page_not_found(request: Request, rest: str) -> Response:
    """404 as a page."""
    message = "If you typed the web address, check it is correct. If you pasted it, check you copied all of it."
    return render(request, "problem.html", None, 404, heading="Page not found", message=message)


def install_refusals(app: FastAPI) -> None:
    """Answer `SignInRequired` and `RoleRefused` as pages, and unknown `/web/` paths with the not-found page (call
    after every page router is included)."""
    app.add_exception_handler(SignInRequired, sign_in_redirect)
    app.add_exception_handler(RoleRefused, refusal_page)
    app.include_router(not_found_router)
