"""Builds the FastAPI application from its parts; its lifespan opens the warehouse engine and closes it."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.edge import AccessEdge
from api.error_handlers import install_error_handlers
from api.memo import AnswerMemos
from api.perturbation_tables import packaged_tables
from api.problems import PROBLEM_MEDIA_TYPE, declared_problems
from api.readiness import WarehouseReadiness, ask_warehouse
from api.rendering import CSV_MEDIA_TYPE, GEOJSON_MEDIA_TYPE
from api.request_metrics import RequestMetrics, RequestMetricsMiddleware
from api.routes import areas as areas_route
from api.routes import cohorts as cohorts_route
from api.routes import counts, geocode, health, ig, quality
from api.routes import datasets as datasets_route
from api.routes import hotspots as hotspots_route
from api.routes import indicators as indicators_route
from api.routes import ogc as ogc_route
from api.routes import partner as partner_route
from api.routes import public as public_route
from api.routes import rates as rates_route
from api.routes import repeats as repeats_route
from api.routes import scorecard as scorecard_route
from api.routes import trends as trends_route
from api.settings import ApiSettings
from api.ward_parents import WardParents
from geography.settings import GeocoderSettings
from sharing_protocols.decision import ProtocolRegister
from warehouse.reference.geocoder_data import Geocoders
from warehouse.schema.db import warehouse_engine
from warehouse.settings import WarehouseSettings


def create_app(
    warehouse: WarehouseSettings,
    register: ProtocolRegister,
    geography: GeocoderSettings,
    settings: ApiSettings | None = None,
    *,
    cdn_docs: bool = True,
) -> FastAPI:
    """The API over `warehouse`, enforcing `register`, geocoding to the vintages of `geography`.

    While the app runs (its lifespan), the objects made before it started are frozen (`gc.freeze`) and `app.state`
    holds the settings, the engine, the register, the geocoders by vintage, the perturbation tables, the wards
    making each area above ward level (`api.ward_parents`) and the memos of repeated answers' work (`api.memo`).
    Every request passes `api.edge.AccessEdge` (edge refusals, the access record); every error answer is a problem
    detail (`api.error_handlers`), declared on every operation of the OpenAPI document, served at /openapi.json.
    FastAPI's own /docs and /redoc pages load their scripts from a CDN: `cdn_docs=False` leaves those paths to a
    host that serves the pages itself (the web application). /healthz, /readyz and /metrics (`api.routes.health`,
    when `settings.metrics`) are the operator's probes; `api.request_metrics` times every request.
    """
    settings = settings or ApiSettings()
    request_metrics = RequestMetrics() if settings.metrics else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = warehouse_engine(warehouse, settings.statement_timeout_s)
        app.state.engine = engine
        app.state.settings = settings
        app.state.register = register
        app.state.geocoders = Geocoders(warehouse.url, geography)
        app.state.perturbation_tables = packaged_tables()
        app.state.ward_parents = WardParents(engine, geography)
        app.state.memos = AnswerMemos()
        app.state.readiness = WarehouseReadiness(lambda: ask_warehouse(engine), settings.ready_timeout_s)
        app.state.request_metrics = request_metrics
        # What the process holds by now (modules, the register, the tables: ~300,000 objects) lives as long as the
        # app: left out of the collector's passes, a full one mid-request takes a few ms instead of ~0.4 s.
        gc.freeze()
        try:
            yield
        finally:
            engine.dispose()
            gc.unfreeze()  # collectable again (a process that makes many apps, as the tests do)

    app = FastAPI(
        title=settings.title,
        version="0.1.0",
        lifespan=lifespan,
        responses=declared_problems(),
        docs_url="/docs" if cdn_docs else None,
        redoc_url="/redoc" if cdn_docs else None,
    )
    install_error_handlers(app)
    app.add_middleware(AccessEdge, settings=settings)
    if request_metrics is not None:  # outermost: times the edge's refusals and the access record too
        app.add_middleware(RequestMetricsMiddleware, metrics=request_metrics)
        app.include_router(health.metrics_router)
    app.include_router(health.router)
    app.include_router(counts.router)
    app.include_router(datasets_route.router)
    app.include_router(areas_route.router)
    app.include_router(ig.router)
    app.include_router(geocode.router)
    app.include_router(quality.router)
    app.include_router(partner_route.router)
    app.include_router(hotspots_route.router)
    app.include_router(public_route.router)
    app.include_router(ogc_route.router)  # OGC API - Features at the root: /, /conformance, /collections
    app.include_router(indicators_route.router)
    app.include_router(scorecard_route.router)
    app.include_router(rates_route.router)
    app.include_router(trends_route.router)
    app.include_router(repeats_route.router)
    app.include_router(cohorts_route.router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


_FORMAT_CONTENT: dict[str, tuple[str, dict[str, Any]]] = {
    "csv": (CSV_MEDIA_TYPE, {"schema": {"type": "string"}}),
    "geojson": (GEOJSON_MEDIA_TYPE, {"schema": {"type": "object"}}),
}


def _formats(operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The 200 content types an operation's `format` parameter asks for besides JSON (CSV, GeoJSON)."""
    found: dict[str, dict[str, Any]] = {}
    for parameter in operation.get("parameters", []):
        if parameter.get("name") == "format":
            for value in parameter.get("schema", {}).get("enum", []):
                if value in _FORMAT_CONTENT:
                    media_type, content = _FORMAT_CONTENT[value]
                    found[media_type] = content
    return found


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, generated once: every error answer's body as `application/problem+json`, and the CSV
    and GeoJSON a `format` parameter can ask for declared beside the JSON of a 200."""
    if app.openapi_schema is None:
        document = get_openapi(title=app.title, version=app.version, routes=app.routes)
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if int(status) >= 400 and "application/json" in content:
                        content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
                    if status == "200":
                        content.update(_formats(operation))
        schemas = document.get("components", {}).get("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        app.openapi_schema = document
    return app.openapi_schema
