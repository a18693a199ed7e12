"""Each part connects to the warehouse as its own role: the URLs deploy.settings composes, never with a password."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy import create_engine

from deploy import settings
from warehouse.schema.db import libpq_url


@pytest.fixture(autouse=True)
def hub_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No HUB_* variables but a hub home (with a space in its path, which the URL must carry)."""
    for name in list(os.environ):
        if name.startswith("HUB_"):
            monkeypatch.delenv(name)
    home = tmp_path / "hub home"
    monkeypatch.setenv("HUB_LOCAL_HOME", str(home))
    return home


@pytest.mark.parametrize(("role", "user"), [("owner", "hub_owner"), ("worker", "hub_worker"), ("api", "hub_api")])
def test_the_embedded_default_is_each_roles_user_with_the_home_pgpass(
    hub_home: Path, role: settings.DatabaseRole, user: str
) -> None:
    url = urlsplit(settings.warehouse_settings(role).url)
    assert (url.scheme, url.username, url.password, url.hostname, url.port, url.path) == (
        "postgresql+psycopg",
        user,
        None,
        "127.0.0.1",
        25432,
        "/hub",
    )
    assert parse_qs(url.query) == {"passfile": [str(hub_home / "secrets" / "pgpass")]}


def test_the_passfile_reaches_psycopg_through_sqlalchemy_and_libpq(hub_home: Path) -> None:
    url = settings.warehouse_settings("worker").url
    _, options = create_engine(url).dialect.create_connect_args(create_engine(url).url)
    assert (options["user"], options["passfile"]) == ("hub_worker", str(hub_home / "secrets" / "pgpass"))
    assert conninfo_to_dict(libpq_url(url)) == {  # libpq's own parse of the URI psycopg connects with
        "user": "hub_worker",
        "host": "127.0.0.1",
        "port": "25432",
        "dbname": "hub",
        "passfile": str(hub_home / "secrets" / "pgpass"),
    }


def test_the_superuser_url_is_only_for_hub_up(hub_home: Path) -> None:
    local = settings.LocalSettings()
    assert urlsplit(local.superuser_url("postgres")).username == "hub"
    assert urlsplit(local.superuser_url("postgres")).path == "/postgres"
    assert all(urlsplit(settings.warehouse_settings(r).url).username != "hub" for r in ("owner", "worker", "api"))


def test_an_external_database_given_by_one_url_serves_every_role(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_DATABASE_URL", "postgresql+psycopg://hub@db.example:5432/w")
    assert {settings.warehouse_settings(role).url for role in ("owner", "worker", "api")} == {
        "postgresql+psycopg://hub@db.example:5432/w"
    }
    assert settings.DatabaseSettings().runtime_roles() is None  # nothing to grant: the worker and API are the owner


def test_the_role_urls_are_read_from_their_own_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_DATABASE_URL", "postgresql+psycopg://warehouse_admin@db.example/w")
    monkeypatch.setenv("HUB_DATABASE_WORKER_URL", "postgresql+psycopg://loader@db.example/w")
    monkeypatch.setenv("HUB_DATABASE_API_URL", "postgresql+psycopg://query%2Dapi@db.example/w")
    assert settings.warehouse_settings().url == "postgresql+psycopg://warehouse_admin@db.example/w"
    assert settings.warehouse_settings("worker").url == "postgresql+psycopg://loader@db.example/w"
    assert settings.warehouse_settings("api").url == "postgresql+psycopg://query%2Dapi@db.example/w"
    assert settings.DatabaseSettings().runtime_roles() == ("loader", "query-api")


def test_the_embedded_runtime_roles_are_granted(hub_home: Path) -> None:
    assert settings.DatabaseSettings().runtime_roles() == ("hub_worker", "hub_api")
