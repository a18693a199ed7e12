"""Adds the web application to the API's FastAPI app: its pages, static files and front-end assets."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from web.routes import analyst, ig, partner, performance
from web.settings import WebSettings

STATIC_DIR = Path(__file__).parent / "static"


def install_web(app: FastAPI, settings: WebSettings) -> None:
    """Serve the pages (under /web/), the project's own scripts (/static/) and the installed front-end packages
    (/assets/) from `app`."""
    app.state.web_settings = settings
    app.include_router(analyst.router)
    app.include_router(performance.router)
    app.include_router(ig.router)
    app.include_router(partner.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
