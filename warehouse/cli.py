"""`hub db ...` and `hub geo ...`: the warehouse schema and its reference boundaries."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from warehouse import migrate
from warehouse.reference import ReferenceFileError, load_areas, read_areas

db = typer.Typer(help="Warehouse schema.", no_args_is_help=True)
geo = typer.Typer(help="Reference geography.", no_args_is_help=True)


@db.command()
def upgrade(revision: str = "head") -> None:
    """Apply the warehouse migrations (creates the schema on a new database)."""
    migrate.upgrade(revision=revision)
    typer.echo(f"warehouse schema at {revision}")


@geo.command("load")
def load(
    file: Annotated[Path, typer.Argument(help="GeoJSON FeatureCollection")],
    vintage: Annotated[str, typer.Option(help="vintage name, e.g. wards-2024")],
    level: Annotated[str, typer.Option(help="ward, lsoa, lad, county, pfa")] = "ward",
    code_field: Annotated[str, typer.Option(help="property holding the area code")] = "ward_code",
    name_field: Annotated[str, typer.Option(help="property holding the area name")] = "ward_name",
) -> None:
    """Load boundaries as a named vintage (replacing that vintage), reprojected to EPSG:27700."""
    try:
        records = read_areas(file, code_field, name_field)
    except ReferenceFileError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    count = load_areas(records, vintage, level)
    typer.echo(f"loaded {count} {level} areas as {vintage}")
