"""`hub db ...` and `hub geo ...`: the warehouse schema and its reference boundaries."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer

from warehouse import migrate
from warehouse.db import session_scope
from warehouse.keys import ROLES, create_key, revoke_key
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
