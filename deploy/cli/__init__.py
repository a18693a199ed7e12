"""The `hub` command: local infrastructure, warehouse, publishing, the loader, the API and the demo."""

from __future__ import annotations

import typer

from api.cli import api
from deploy import local
from deploy.demo import demo
from deploy.protocols_cli import protocols
from deploy.schema_cli import asyncapi, schema
from producers.cli import linkage_key, publish
from producers.generate_cli import generate
from stream_processors.cli import worker
from warehouse.cli import db, geo, keys, retention
from warehouse.indicators_cli import indicators
from warehouse.population_cli import population
from warehouse.quality_cli import dq

app = typer.Typer(help="CSP information-sharing hub.", no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(db, name="db")
app.add_typer(geo, name="geo")
app.add_typer(keys, name="keys")
app.add_typer(retention, name="retention")
app.add_typer(protocols, name="protocols")
app.add_typer(indicators, name="indicators")
app.add_typer(population, name="population")
app.command()(publish)
app.command(name="linkage-key")(linkage_key)
app.command()(generate)
app.command()(worker)
app.command()(api)
app.command()(demo)
app.command(name="dq")(dq)
app.command()(schema)
app.command()(asyncapi)


@app.command()
def up() -> None:
    """Start the embedded Kafka broker and PostgreSQL/PostGIS (unless HUB_* names external ones)."""
    try:
        for line in local.up():
            typer.echo(line)
    except local.LocalInfraError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None


@app.command()
def down() -> None:
    """Stop the worker, the API and the embedded services."""
    for line in local.down():
        typer.echo(line)


@app.command()
def status() -> None:
    """Show the state of Kafka, PostgreSQL, the worker and the API."""
    for name, state in local.status().items():
        typer.echo(f"{name:<9} {state}")


if __name__ == "__main__":
    app()
