"""Alembic environment: runs the warehouse migrations against the configured database."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

import warehouse.geography_models  # noqa: F401  (registers the geography tables on Base.metadata)
from deploy.settings import get_database_settings
from warehouse.models import Base

config = context.config
url = config.attributes.get("url") or get_database_settings().resolved_url
engine = create_engine(url, poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
