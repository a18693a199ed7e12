"""`hub generate FEED`: write a seeded, realistic export for a feed that has no real sample."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from deploy.reference_files import POSTCODES
from deploy.settings import LocalSettings
from producers.generators.base import GenerateRequest, read_codepoint, write_csv
from producers.generators.registry import all_generators


def generate(
    feed: Annotated[str, typer.Argument(help="dataset name, e.g. istv-ae")],
    out: Annotated[Path, typer.Argument(help="file to write (.csv, or .xml where the feed has an XML form)")],
    rows: Annotated[int, typer.Option(min=1, help="number of records")] = 1000,
    seed: Annotated[int, typer.Option(help="random seed: the same seed gives the same file")] = 1,
    district: Annotated[list[str] | None, typer.Option(help="district code(s) to place records in")] = None,
    start: Annotated[str, typer.Option(help="first month, YYYY-MM")] = "2024-04",
    months: Annotated[int, typer.Option(min=1, help="number of months covered")] = 12,
    postcodes: Annotated[Path | None, typer.Option(help="Code-Point Open CSV (default: the shared data's)")] = None,
) -> None:
    """Write ROWS seeded records of FEED to OUT, on real postcodes, with synthetic people."""
    generator = all_generators().get(feed)
    if generator is None:
        known = ", ".join(sorted(all_generators()))
        raise typer.BadParameter(f"no generator for {feed!r}; generators: {known}", param_hint="FEED")
    try:
        first = date(int(start[:4]), int(start[5:7]), 1)
    except (ValueError, IndexError):
        raise typer.BadParameter("expected YYYY-MM", param_hint="--start") from None
    points = read_codepoint(postcodes or LocalSettings().shared_data / POSTCODES, district or ())
    request = GenerateRequest(rows=rows, seed=seed, postcodes=points, start=first, months=months)
    records = list(generator.rows(request))
    if out.suffix.lower() == ".xml":
        if generator.write is None:
            raise typer.BadParameter(f"{feed} has no XML form", param_hint="OUT")
        generator.write(out, records, generator.columns)
    else:
        write_csv(out, records, generator.columns)
    typer.echo(f"{out}: {len(records)} {feed} records (seed {seed})")
