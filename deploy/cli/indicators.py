"""`hub indicators load|list`: the scorecard indicator registry in the warehouse."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from deploy.indicator_files import configured_indicators_dir
from deploy.settings import warehouse_settings
from warehouse.reference.indicator_registry import IndicatorError, load_directory
from warehouse.reference.indicator_store import load_indicators, read_indicators
from warehouse.schema.db import session_scope

indicators = typer.Typer(help="Scorecard indicators and their targets.", no_args_is_help=True)


@indicators.command()
def load(
    directory: Annotated[
        Path | None,
        typer.Argument(help="directory of indicator *.yaml files (default: HUB_INDICATORS_DIR, else the examples)"),
    ] = None,
) -> None:
    """Replace the warehouse registry with the indicators of a directory; problems print as FILE: FIELD: PROBLEM."""
    source = directory or configured_indicators_dir()
    try:
        found = load_directory(source)
    except IndicatorError as exc:
        for problem in exc.problems:
            typer.echo(str(problem), err=True)
        raise typer.Exit(1) from None
    except FileNotFoundError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    with session_scope(warehouse_settings().url) as session:
        count = load_indicators(session, found)
    typer.echo(f"{count} indicators loaded from {source}")


@indicators.command("list")
def list_() -> None:
    """The indicators in the warehouse: id, measure, direction of good, data lag and the target years."""
    with session_scope(warehouse_settings().url) as session:
        registered = read_indicators(session)
    for entry in registered:
        i = entry.indicator
        years = sorted({year for _, year, _ in i.target_rows()})
        typer.echo(
            f"{i.id:<24} {i.measure:<5} {i.direction:<16} lag {i.data_lag_months}m  "
            f"targets {', '.join(years) or 'none'}  ({i.dataset}, owner {i.owner})"
        )
    if not registered:
        typer.echo("no indicators loaded (hub indicators load)")
