"""Alembic environment: runs the warehouse migrations against the database URL the config carries."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

import warehouse.schema.geography_models  # noqa: F401  (registers the geography tables on Base.metadata)
from warehouse.schema.models import Base

config = context.config
url = config.attributes["url"]  # set by warehouse.schema.migrate.alembic_config
engine = create_engine(url, poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
