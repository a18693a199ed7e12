"""`hub worker`: run the warehouse loader."""

from __future__ import annotations

import faust

from deploy.protocol_files import configured_register
from deploy.settings import get_database_settings, get_geography_settings, get_kafka_settings
from deploy.topics import ensure_topics
from stream_processors.app import create_app
from stream_processors.loader import Loader
from stream_processors.settings import WorkerSettings
from warehouse.geocoder import geocoder_from_warehouse
from warehouse.sink import WarehouseSink


def worker() -> None:
    """Consume every dataset topic and load the warehouse until stopped (Ctrl-C or SIGTERM)."""
    kafka = get_kafka_settings()
    settings = WorkerSettings()
    url = get_database_settings().resolved_url
    ensure_topics(kafka)
    geo = get_geography_settings()
    geocoder = geocoder_from_warehouse(geo.ward_vintage, geo.lsoa_vintage, geo.lookup_vintage, url)
    loader = Loader(kafka, geocoder, WarehouseSink(url), settings.retry_max_seconds, configured_register())
    app = create_app(kafka, settings, loader)
    faust.Worker(app, loglevel=settings.log_level, quiet=True).execute_from_commandline()
