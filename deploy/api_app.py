"""The query API as deployed: built from HUB_* settings (uvicorn's factory for `hub api`)."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from api.factory import create_app
from api.probes import ProbeAccessFilter
from deploy.protocol_files import configured_register
from deploy.settings import api_settings, geocoder_settings, warehouse_settings, web_settings
from web.install import install_web


def app_from_environment() -> FastAPI:
    """The API over the configured warehouse as its own role (HUB_DATABASE_API_URL), enforcing the configured
    protocols, geocoding to HUB_GEO_*; with the web application (HUB_WEB_*). uvicorn's access log leaves the probes
    (/healthz, /readyz, /metrics) out."""
    access_log = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, ProbeAccessFilter) for f in access_log.filters):
        access_log.addFilter(ProbeAccessFilter())
    app = create_app(
        warehouse_settings("api"), configured_register(), geocoder_settings(), api_settings(), cdn_docs=False
    )
    install_web(app, web_settings())
    return app
