"""`hub schema FEED [--source|--envelope]` and `hub asyncapi [--out FILE]`: the hub's contracts, as documents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from deploy.asyncapi import render, row_schema, standalone_envelope_schema
from deploy.cli.publish import feed_argument


def schema(
    feed: Annotated[str, typer.Argument(help="dataset name, e.g. police-uk-street")],
    envelope: Annotated[
        bool, typer.Option("--envelope/--source", help="the event envelope, or the source row (default)")
    ] = False,
) -> None:
    """Print FEED's JSON Schema: its source row (by column name) or the envelope of its events."""
    source = feed_argument(feed)
    document = standalone_envelope_schema(source.spec) if envelope else row_schema(source)
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))


def asyncapi(
    out: Annotated[Path | None, typer.Option(help="write the document here (default: standard output)")] = None,
) -> None:
    """Write the AsyncAPI 3.0 document of the hub's topics (YAML), generated from the dataset catalogue."""
    text = render()
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}", err=True)
