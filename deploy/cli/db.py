"""`hub db upgrade|grant`: the warehouse schema and its run-time roles' privileges."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import typer

from deploy.warehouse_roles import grant_configured_roles, upgrade_warehouse

db = typer.Typer(help="Warehouse schema and database roles.", no_args_is_help=True)


def _say(lines: Callable[[], list[str]]) -> None:
    try:
        for line in lines():
            typer.echo(line)
    except (psycopg.Error, ValueError) as exc:  # e.g. a role that does not exist: said, without a traceback
        typer.echo(f"could not grant the run-time roles their privileges: {exc}", err=True)
        raise typer.Exit(1) from None


@db.command()
def upgrade(revision: str = "head") -> None:
    """Apply the warehouse migrations as the owner (creates the schema on a new database), then grant the
    worker's and the API's roles their privileges."""
    _say(lambda: upgrade_warehouse(revision))


@db.command()
def grant() -> None:
    """Grant the worker's and the API's roles (HUB_DATABASE_WORKER_URL, HUB_DATABASE_API_URL) their privileges."""
    _say(lambda: [grant_configured_roles()])
