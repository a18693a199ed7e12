"""The pages' Jinja2 templates (GOV.UK Design System markup) and how a route renders one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from web.navigation import navigation
from web.viewer import Viewer

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")


def render(request: Request, name: str, viewer: Viewer | None, status_code: int = 200, **context: Any) -> HTMLResponse:
    """The template `name` with `context`, the viewer (CSRF token), their role's navigation and the request."""
    pages = navigation(viewer.caller.role) if viewer is not None else []
    return TEMPLATES.TemplateResponse(
        request, name, {"viewer": viewer, "navigation": pages, **context}, status_code=status_code
    )
