"""Engines and sessions for the warehouse."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import psycopg
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from deploy.settings import get_database_settings, libpq_url


@lru_cache
def get_engine(url: str | None = None) -> Engine:
    settings = get_database_settings()
    return create_engine(url or settings.resolved_url, pool_size=settings.pool_size, pool_pre_ping=True)


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    factory = sessionmaker(get_engine(url), expire_on_commit=False)
    with factory() as session, session.begin():
        yield session


def connect_raw(url: str | None = None) -> psycopg.Connection[tuple[object, ...]]:
    """A plain psycopg connection, for bulk COPY paths."""
    return psycopg.connect(libpq_url(url or get_database_settings().resolved_url))


def ping(session: Session) -> None:
    """Ask the warehouse a trivial question (raises when it does not answer)."""
    session.execute(text("SELECT 1"))
