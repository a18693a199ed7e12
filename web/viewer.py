"""Who is looking at a page: the signed-in caller (organisation and role) and their session's CSRF token."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from api.caller import Caller


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


def role_page(*roles: str) -> Callable[[Request], Viewer]:
    """A dependency for a page that people in `roles` may see: the viewer, else `SignInRequired` (no valid
    session) or `RoleRefused` (another role)."""

    def dependency(request: Request) -> Viewer:
        raise SignInRequired(request.url.path)  # the session check lands with sign-in

    return dependency
