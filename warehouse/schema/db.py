"""Engines, sessions and raw connections for the warehouse, from its settings or a database URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from sqlalchemy import Engine, create_engine, event, pool, text
from sqlalchemy.orm import Session, sessionmaker

from warehouse.settings import WarehouseSettings


def libpq_url(url: str) -> str:
    """A libpq URI from a SQLAlchemy-style URL (drops the "+driver" part)."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme == "postgres":
        scheme = "postgresql"
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))


# Planner settings of every connection of `warehouse_engine` (the API's and the web's), set when it is opened, so
# that they hold on the embedded database and on an external one alike. The answers' statements read a few thousand
# rows of pre-aggregates that stay in memory, and their text is the same for every area: random_page_cost 1.1 (not
# 4) prices an index read as what it is here, and custom plans (not a generic plan psycopg's prepared statement gets
# after five runs, planned for 1 to 5 rows whatever the area) cost ~0.2 ms to plan. See docs/benchmarks.md, "The
# count and trends queries' own time".
PLANNER_SETTINGS = {"random_page_cost": "1.1", "plan_cache_mode": "force_custom_plan"}


def _set_planner_settings(connection: psycopg.Connection[Any], _record: object) -> None:
    """PLANNER_SETTINGS on a newly opened connection, for its whole session."""
    calls = ", ".join("set_config(%s, %s, false)" for _ in PLANNER_SETTINGS)
    connection.execute(f"SELECT {calls}", [v for item in PLANNER_SETTINGS.items() for v in item])
    connection.commit()


def warehouse_engine(settings: WarehouseSettings) -> Engine:
    """A pooled engine on the warehouse, its connections under PLANNER_SETTINGS (the caller disposes of it)."""
    engine = create_engine(
        settings.url,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_timeout=settings.pool_timeout_s,
        pool_pre_ping=True,
    )
    event.listen(engine, "connect", _set_planner_settings)
    return engine


@contextmanager
def session_scope(bind: Engine | str) -> Iterator[Session]:
    """A session that commits on success and rolls back on error; a URL gets its own connection, closed after."""
    engine = create_engine(bind, poolclass=pool.NullPool) if isinstance(bind, str) else bind
    try:
        factory = sessionmaker(engine, expire_on_commit=False)
        with factory() as session, session.begin():
            yield session
    finally:
        if isinstance(bind, str):
            engine.dispose()


def connect_raw(url: str) -> psycopg.Connection[tuple[object, ...]]:
    """A plain psycopg connection, for bulk COPY paths."""
    return psycopg.connect(libpq_url(url))


def ask_once(url: str, timeout: float) -> None:
    """Connect to `url` (waiting at most `timeout` seconds for the connection and as long for the answer) and ask a
    trivial question; raises when the warehouse does not answer."""
    limit_ms = max(1, int(timeout * 1000))
    with psycopg.connect(libpq_url(url), connect_timeout=max(1, round(timeout))) as connection:
        connection.execute("SELECT set_config('statement_timeout', %s, false)", (str(limit_ms),))
        connection.execute("SELECT 1")


def ping(session: Session) -> None:
    """Ask the warehouse a trivial question (raises when it does not answer)."""
    session.execute(text("SELECT 1"))
