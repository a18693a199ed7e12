"""Builds the FastAPI application."""

from __future__ import annotations

from fastapi import FastAPI

from api.error_handlers import install_error_handlers
from api.routes import cohorts as cohorts_route
from api.routes import counts, geocode, health, ig, quality
from api.routes import hotspots as hotspots_route
from api.routes import indicators as indicators_route
from api.routes import ogc as ogc_route
from api.routes import public as public_route
from api.routes import rates as rates_route
from api.routes import repeats as repeats_route
from api.routes import scorecard as scorecard_route
from api.routes import trends as trends_route
from api.settings import get_api_settings


def create_app() -> FastAPI:
    app = FastAPI(title=get_api_settings().title, version="0.1.0")
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(counts.router)
    app.include_router(ig.router)
    app.include_router(geocode.router)
    app.include_router(quality.router)
    app.include_router(hotspots_route.router)
    app.include_router(public_route.router)
    app.include_router(ogc_route.router)  # OGC API - Features at the root: /, /conformance, /collections
    app.include_router(indicators_route.router)
    app.include_router(scorecard_route.router)
    app.include_router(rates_route.router)
    app.include_router(trends_route.router)
    app.include_router(repeats_route.router)
    app.include_router(cohorts_route.router)
    return app
