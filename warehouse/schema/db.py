"""Engines, sessions and raw connections for the warehouse, from its settings or a database URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
from sqlalchemy import Engine, create_engine, pool, text
from sqlalchemy.orm import Session, sessionmaker

from warehouse.settings import WarehouseSettings


def libpq_url(url: str) -> str:
    """A libpq URI from a SQLAlchemy-style URL (drops the "+driver" part)."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme == "postgres":
        scheme = "postgresql"
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))


# Planner settings of every connection of `warehouse_engine` (the API's and the web's), given when it is opened (the
# libpq `options` of its start-up packet: no round trip), so that they hold on the embedded database and on an
# external one alike. The answers' statements read a few thousand rows of pre-aggregates that stay in memory, and
# their text is the same for every area: random_page_cost 1.1 (not 4) prices an index read as what it is here, and
# custom plans (not a generic plan psycopg's prepared statement gets after five runs, planned for 1 to 5 rows
# whatever the area) cost ~0.2 ms to plan. See docs/benchmarks.md, "The count and trends queries' own time".
PLANNER_SETTINGS = {"random_page_cost": "1.1", "plan_cache_mode": "force_custom_plan"}


def warehouse_engine(settings: WarehouseSettings, statement_timeout_s: float | None = None) -> Engine:
    """A pooled engine on the warehouse (the caller disposes of it); its connections are opened under
    PLANNER_SETTINGS and cancel a statement running longer than `statement_timeout_s` (None: the server's setting).

    A checkout is not pinged first (a round trip per checkout): a connection that died while pooled (the warehouse
    restarted) fails its first statement, which invalidates the whole pool, so the next checkouts connect afresh
    (the API answers that one request 503: `api.error_handlers`).
    """
    options = dict(PLANNER_SETTINGS)
    if statement_timeout_s is not None:
        options["statement_timeout"] = str(max(1, round(statement_timeout_s * 1000)))
    return create_engine(
        settings.url,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_timeout=settings.pool_timeout_s,
        connect_args={"options": " ".join(f"-c {name}={value}" for name, value in options.items())},
    )


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
