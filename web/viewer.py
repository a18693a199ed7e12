"""Who is looking at a page: the signed-in caller (organisation and role) and their session's CSRF token."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from api.access_record import access_of
from api.caller import Caller
from api.dependencies import EngineDep
from api.web_session import cookie_session


@dataclass(frozen=True)
class Viewer:
    """A signed-in person: the caller their API key names, and the CSRF token their page's forms and `fetch`
    calls that change state must carry."""

    caller: Caller
    csrf_token: str


class SignInRequired(Exception):
    """No valid session: the page answers with a redirect to the sign-in page, which then returns to `path`."""

    def __init__(self, path: str, expired: bool = False) -> None:
        super().__init__(path)
        self.path = path
        self.expired = expired


class RoleRefused(Exception):
    """A signed-in person whose role may not see the page: the refusal page, 403."""

    def __init__(self, viewer: Viewer, roles: tuple[str, ...]) -> None:
        super().__init__(", ".join(roles))
        self.viewer = viewer
        self.roles = roles


def current_path(request: Request) -> str:
    """The request's path with its query: where sign-in returns to."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def signed_in(request: Request, engine: EngineDep) -> Viewer:
    """A dependency: the viewer of the request's session (recorded as the request's caller in the access log),
    else `SignInRequired`."""
    found = cookie_session(request, engine)
    if found is None or found.caller is None:
        raise SignInRequired(current_path(request), expired=found is not None and found.expired)
    access_of(request).caller = found.caller
    return Viewer(found.caller, found.csrf_token)


def role_page(*roles: str) -> Callable[[Viewer], Viewer]:
    """A dependency for a page that people in `roles` may see: the viewer, else `SignInRequired` (no valid
    session) or `RoleRefused` (another role)."""

    def dependency(viewer: Annotated[Viewer, Depends(signed_in)]) -> Viewer:
        if viewer.caller.role not in roles:
            raise RoleRefused(viewer, roles)
        return viewer

    return dependency
