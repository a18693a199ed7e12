"""Adds the web application to the API's FastAPI app: its pages, static files and front-end assets."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from web import api_docs
from web.assets import install_assets
from web.routes import analyst, ig, partner
from web.settings import WebSettings

STATIC_DIR = Path(__file__).parent / "static"


def install_web(app: FastAPI, settings: WebSettings) -> None:
    """Serve the pages (under /web/), the API reference (/docs, /redoc), the project's own scripts (/static/) and
    the installed front-end packages (/assets/) from `app`. `web.assets.AssetsMissing` when those are not
    installed; ValueError when `app` keeps FastAPI's own (CDN) reference pages."""
    if app.docs_url is not None or app.redoc_url is not None:
        raise ValueError(
            "the web application serves /docs and /redoc itself: build the API with create_app(cdn_docs=False)"
        )
    app.state.web_settings = settings
    app.include_router(analyst.router)
    app.include_router(ig.router)
    app.include_router(partner.router)
    app.include_router(api_docs.router)  # create_app(cdn_docs=False) leaves /docs and /redoc to it
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_assets(app, settings)
