"""`hub population ...`: population denominators for rates."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Annotated

import typer

from deploy.settings import LocalSettings, warehouse_settings
from warehouse.reference.population import load_population
from warehouse.reference.population_estimates import PopulationFileError, PopulationLoad

population = typer.Typer(help="Population denominators for rates.", no_args_is_help=True)


def summary_lines(result: PopulationLoad) -> list[str]:
    """The load summary as lines: rows per level, then every unplaced district and omitted parent area."""
    lines = ["loaded " + ", ".join(f"{count} {level}" for level, count in result.rows.items()) + " rows"]
    unplaced: dict[tuple[str, int, str], list[str]] = defaultdict(list)
    for item in result.unplaced:
        unplaced[item.level, item.year, item.reason].append(item.code)
    for (level, year, reason), codes in unplaced.items():
        lines.append(f"{year} {level} figures not placed in the levels above: {', '.join(codes)}: {reason}")
    lines.extend(f"no {o.year} {o.level} figure for {o.code}: {o.reason}" for o in result.omitted)
    return lines


@population.command("load")
def load(
    data: Annotated[
        Path | None,
        typer.Option(help="the shared data directory (default: HUB_LOCAL_SHARED_DATA, else ../shared/data)"),
    ] = None,
) -> None:
    """Load ONS population denominators (districts, LSOAs, wards, CSPs, counties, forces), replacing those loaded."""
    try:
        result = load_population(data or LocalSettings().shared_data, warehouse_settings().url)
    except PopulationFileError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    for line in summary_lines(result):
        typer.echo(line)
