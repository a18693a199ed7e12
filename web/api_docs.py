"""The API's reference pages, served from the installed packages instead of FastAPI's CDN pages: /docs (Swagger UI,
started by /static/js/docs.js) and /redoc (ReDoc), both over /openapi.json and within the Content-Security-Policy."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

PAGES = Path(__file__).parent / "templates" / "docs"

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui() -> HTMLResponse:
    """Swagger UI over the API's OpenAPI document."""
    return HTMLResponse((PAGES / "swagger.html").read_text(encoding="utf-8"))


@router.get("/redoc", response_class=HTMLResponse)
def redoc() -> HTMLResponse:
    """ReDoc over the API's OpenAPI document."""
    return HTMLResponse((PAGES / "redoc.html").read_text(encoding="utf-8"))
