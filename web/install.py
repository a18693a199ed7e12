"""Adds the web application to the API's FastAPI app: its pages, sign-in, static files, front-end assets and the
security headers of every answer."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.rate_limit import RateLimiter
from api.web_session import TIMES_STATE, SessionTimes
from web import api_docs
from web.assets import install_assets
from web.refusals import install_refusals
from web.routes import analyst, ig, partner, session
from web.security_headers import SecurityHeaders
from web.settings import WebSettings

STATIC_DIR = Path(__file__).parent / "static"
SIGN_IN_CALLERS = 10_000  # addresses whose sign-in attempts are counted at once (api.rate_limit)


def install_web(app: FastAPI, settings: WebSettings) -> None:
    """Serve the pages (under /web/), the API reference (/docs, /redoc), the project's own scripts (/static/) and
    the installed front-end packages (/assets/) from `app`, accept its sessions' cookies on the API, and add the
    security headers to every answer (call once, after `api.factory.create_app(..., cdn_docs=False)`, before the
    app starts). `web.assets.AssetsMissing` when the front-end packages are not installed; ValueError when `app`
    keeps FastAPI's own (CDN) reference pages."""
    if app.docs_url is not None or app.redoc_url is not None:
        raise ValueError(
            "the web application serves /docs and /redoc itself: build the API with create_app(cdn_docs=False)"
        )
    app.state.web_settings = settings
    setattr(
        app.state,
        TIMES_STATE,
        SessionTimes(timedelta(hours=settings.session_hours), timedelta(minutes=settings.idle_minutes)),
    )
    app.state.sign_in_limiter = RateLimiter(SIGN_IN_CALLERS, time.monotonic)
    app.include_router(session.router)
    app.include_router(analyst.router)
    app.include_router(ig.router)
    app.include_router(partner.router)
    app.include_router(api_docs.router)  # create_app(cdn_docs=False) leaves /docs and /redoc to it
    install_refusals(app)  # after every page's router: its not-found page answers the /web/ paths none did
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_assets(app, settings)
    app.add_middleware(SecurityHeaders, basemap_url=settings.basemap_url)
