"""`hub up|down|status`: the embedded Kafka broker and PostgreSQL/PostGIS, the worker and the API."""

from __future__ import annotations

import typer

from deploy import local


def up() -> None:
    """Start the embedded Kafka broker and PostgreSQL/PostGIS (unless HUB_* names external ones)."""
    try:
        for line in local.up():
            typer.echo(line)
    except local.LocalInfraError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None


def down() -> None:
    """Stop the worker, the API and the embedded services."""
    for line in local.down():
        typer.echo(line)


def status() -> None:
    """Show the state of Kafka, PostgreSQL, the worker and the API."""
    for name, state in local.status().items():
        typer.echo(f"{name:<9} {state}")
