"""create_app takes its parts explicitly; its lifespan puts them on app.state, where the dependencies find them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.factory import create_app
from api.perturbation_tables import PerturbationTables
from api.settings import ApiSettings
from deploy.protocol_files import register_at
from geography.settings import GeocoderSettings
from warehouse.reference.geocoder_data import Geocoders
from warehouse.settings import WarehouseSettings

URL = "postgresql+psycopg://nobody@127.0.0.1:9/none"  # never connected to: engines connect on first use


def test_the_lifespan_keeps_the_engine_register_geocoders_and_perturbation_tables_on_app_state() -> None:
    register = register_at([])
    geography = GeocoderSettings(ward_vintage="wards-2013")
    app = create_app(WarehouseSettings(url=URL, pool_size=2), register, geography, ApiSettings(title="Test hub"))
    with TestClient(app) as client:
        assert isinstance(app.state.engine, Engine)
        assert app.state.engine.url.render_as_string(hide_password=False) == URL
        assert app.state.register is register
        assert isinstance(app.state.geocoders, Geocoders) and app.state.geocoders.settings == geography
        tables = app.state.perturbation_tables
        assert isinstance(tables, PerturbationTables) and tables["hub-cell-key@1"].label == "hub-cell-key@1"
        assert client.get("/openapi.json").json()["info"]["title"] == "Test hub"


def test_a_route_outside_the_lifespan_fails_loudly(caplog: pytest.LogCaptureFixture) -> None:
    """Without the engine the access record cannot be written either, so the request fails closed (503)."""
    app = create_app(WarehouseSettings(url=URL), register_at([]), GeocoderSettings())
    answer = TestClient(app).get("/v1/datasets")
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert "RuntimeError on /v1/datasets" in caplog.text
    assert "access record not written (RuntimeError)" in caplog.text
