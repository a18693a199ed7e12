"""`hub db upgrade`: the warehouse schema."""

from __future__ import annotations

import typer

from deploy.settings import warehouse_settings
from warehouse.schema import migrate

db = typer.Typer(help="Warehouse schema.", no_args_is_help=True)


@db.command()
def upgrade(revision: str = "head") -> None:
    """Apply the warehouse migrations (creates the schema on a new database)."""
    migrate.upgrade(warehouse_settings().url, revision=revision)
    typer.echo(f"warehouse schema at {revision}")
