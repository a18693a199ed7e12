"""`hub db ...` and `hub geo ...`: the warehouse schema and its reference boundaries."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import MofNCompleteColumn, Progress

from warehouse import migrate
from warehouse.db import session_scope
from warehouse.keys import ROLES, create_key, revoke_key
from warehouse.locate_cli import locate
from warehouse.lookups import LookupFileError, load_lookup
from warehouse.postcodes import SOURCES, PostcodeFileError, load_postcodes
from warehouse.reference import ReferenceFileError, load_areas, read_areas
from warehouse.retention import run_retention

db = typer.Typer(help="Warehouse schema.", no_args_is_help=True)
geo = typer.Typer(help="Reference geography.", no_args_is_help=True)
keys = typer.Typer(help="API keys per organisation and role.", no_args_is_help=True)
retention = typer.Typer(help="Retention of events under their protocols.", no_args_is_help=True)


@keys.command("create")
def create(
    org: Annotated[str, typer.Option(help="organisation id, as the protocols name it (e.g. eastbourne-csp)")],
    role: Annotated[str, typer.Option(help=f"one of {', '.join(ROLES)}")],
) -> None:
    """Issue an API key; the key is printed once and only its hash is kept."""
    if role not in ROLES:
        raise typer.BadParameter(f"must be one of {', '.join(ROLES)}", param_hint="--role")
    with session_scope() as session:
        typer.echo(create_key(session, org, role))


@keys.command("revoke")
def revoke(key_id: str) -> None:
    """Revoke a key by its id (the part after `hub_`)."""
    with session_scope() as session:
        if not revoke_key(session, key_id):
            typer.echo(f"no active key {key_id!r}", err=True)
            raise typer.Exit(1)
    typer.echo(f"revoked {key_id}")


@retention.command("run")
def run(today: Annotated[str | None, typer.Option(help="as if on this date (YYYY-MM-DD)")] = None) -> None:
    """Delete events past their protocol's retention period and record what was deleted."""
    day = date.fromisoformat(today) if today else datetime.now(UTC).date()
    with session_scope() as session:
        counts = run_retention(session, day)
    for dataset, count in sorted(counts.items()) or [("(none)", 0)]:
        typer.echo(f"deleted {count} {dataset} events retained until before {day}")


@db.command()
def upgrade(revision: str = "head") -> None:
    """Apply the warehouse migrations (creates the schema on a new database)."""
    migrate.upgrade(revision=revision)
    typer.echo(f"warehouse schema at {revision}")


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
    count = load_areas(records, vintage, level, source=file.name)
    typer.echo(f"loaded {count} {level} areas as {vintage}")


@geo.command("lookups")
def lookups(
    file: Annotated[Path, typer.Argument(help="lookup CSV (ward-lad-county, lsoa-ward-lad or lad-csp-pfa)")],
    vintage: Annotated[str, typer.Option(help="vintage name, e.g. lookups-2024")],
) -> None:
    """Load a roll-up lookup (recognised by its header) as a named vintage, replacing the edges it provides."""
    try:
        result = load_lookup(file, vintage)
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
            result = load_postcodes(file, source, progress=lambda done: bar.update(task, completed=done))
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
