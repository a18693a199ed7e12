"""`hub geo load|lookups|postcodes|locate`: the warehouse's reference geography."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import MofNCompleteColumn, Progress

from deploy.cli.locate import locate
from deploy.settings import warehouse_settings
from warehouse.reference.boundaries import ReferenceFileError, load_areas, read_areas
from warehouse.reference.lookups import LookupFileError, load_lookup
from warehouse.reference.postcodes import SOURCES, PostcodeFileError, load_postcodes

geo = typer.Typer(help="Reference geography.", no_args_is_help=True)


@geo.command("load")
def load(
    file: Annotated[Path, typer.Argument(help="GeoJSON FeatureCollection, GeoPackage (.gpkg) or Shapefile (.shp)")],
    vintage: Annotated[str, typer.Option(help="vintage name, e.g. wards-2024")],
    level: Annotated[str, typer.Option(help="ward, lsoa, lad, county, pfa")] = "ward",
    code_field: Annotated[
        str | None, typer.Option(help="property holding the area code (default: detected for the level)")
    ] = None,
    name_field: Annotated[
        str | None, typer.Option(help="property holding the area name (default: detected for the level)")
    ] = None,
) -> None:
    """Load boundaries as a named vintage (replacing that vintage), reprojected to EPSG:27700."""
    try:
        records = read_areas(file, code_field, name_field, level=level)
    except ReferenceFileError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    count = load_areas(records, vintage, level, warehouse_settings().url, source=file.name)
    typer.echo(f"loaded {count} {level} areas as {vintage}")


@geo.command("lookups")
def lookups(
    file: Annotated[Path, typer.Argument(help="lookup CSV (ward-lad-county, lsoa-ward-lad or lad-csp-pfa)")],
    vintage: Annotated[str, typer.Option(help="vintage name, e.g. lookups-2024")],
) -> None:
    """Load a roll-up lookup (recognised by its header) as a named vintage, replacing the edges it provides."""
    try:
        result = load_lookup(file, vintage, warehouse_settings().url)
    except LookupFileError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    edges = ", ".join(f"{count} {child} -> {parent}" for (child, parent), count in result.edges.items())
    typer.echo(f"loaded {result.format} lookup as {vintage}: {edges}")


@geo.command("postcodes")
def postcodes(
    file: Annotated[Path, typer.Argument(help="postcode CSV")],
    source: Annotated[str, typer.Option(help="codepoint (OS Code-Point Open) or onspd (ONS Postcode Directory)")],
) -> None:
    """Load postcodes (upserted on the normalised postcode); rows skipped are counted by reason."""
    if source not in SOURCES:
        raise typer.BadParameter(f"must be one of {', '.join(SOURCES)}", param_hint="--source")
    try:
        with file.open("rb") as handle:
            total = max(sum(1 for _ in handle) - 1, 0)
    except OSError as exc:
        typer.echo(f"{file}: cannot read ({exc})", err=True)
        raise typer.Exit(2) from None
    with Progress(*Progress.get_default_columns(), MofNCompleteColumn(), transient=True) as bar:
        task = bar.add_task(f"reading {file.name}", total=total)
        try:
            result = load_postcodes(
                file, source, warehouse_settings().url, progress=lambda done: bar.update(task, completed=done)
            )
        except PostcodeFileError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
    typer.echo(f"{file}: read {result.read} rows, loaded {result.loaded} postcodes in {result.seconds:.1f}s")
    for reason, count in sorted(result.skipped.items()):
        rows = ", ".join(map(str, result.skipped_rows[reason]))
        more = ", ..." if count > len(result.skipped_rows[reason]) else ""
        typer.echo(f"skipped {count} rows: {reason} (rows {rows}{more})")
    if not result.skipped:
        typer.echo("skipped 0 rows")


geo.command("locate")(locate)
