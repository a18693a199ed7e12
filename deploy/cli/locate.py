"""`hub geo locate IN.csv OUT.csv`: geocode a CSV file with the warehouse geocoder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from deploy.settings import geocoder_settings, warehouse_settings
from geography.locate import LocateFileError, locate_csv
from warehouse.reference.geocoder_data import geocoder_from_warehouse

_SHOWN_PROBLEMS = 50


def _count_rows(path: Path) -> int:
    with path.open("rb") as handle:
        return max(sum(1 for _ in handle) - 1, 0)


def locate(
    in_file: Annotated[Path, typer.Argument(help="CSV with postcode, lat/lon or easting/northing columns")],
    out_file: Annotated[Path, typer.Argument(help="CSV to write: the input columns plus the areas found")],
    vintage: Annotated[str | None, typer.Option(help="ward vintage (default HUB_GEO_WARD_VINTAGE)")] = None,
) -> None:
    """Geocode every row to ward, LSOA, district, CSP, county and force; no row is dropped."""
    if not in_file.is_file():
        typer.echo(f"{in_file}: no such file", err=True)
        raise typer.Exit(1)
    settings = geocoder_settings()
    try:
        geocoder = geocoder_from_warehouse(
            vintage or settings.ward_vintage, settings.lsoa_vintage, settings.lookup_vintage, warehouse_settings().url
        )
    except LookupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    with Progress(
        TextColumn("locating"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True
    ) as bar:
        task = bar.add_task("locate", total=_count_rows(in_file))
        try:
            summary = locate_csv(in_file, out_file, geocoder, lambda done: bar.update(task, completed=done))
        except LocateFileError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from None
    for problem in summary.problems[:_SHOWN_PROBLEMS]:
        typer.echo(problem, err=True)
    if len(summary.problems) > _SHOWN_PROBLEMS:
        typer.echo(f"... and {len(summary.problems) - _SHOWN_PROBLEMS} more invalid rows", err=True)
    used = ", ".join(f"{k}={v!r}" for k, v in summary.columns.items())
    typer.echo(
        f"{in_file} -> {out_file}: {summary.rows} rows (location columns {used}), ward vintage {geocoder.vintage}"
    )
    typer.echo(f"  matched: {summary.matched}")
    for reason, count in sorted(summary.unmatched.items()):
        typer.echo(f"  unmatched {reason}: {count}")
