"""`hub protocols check|list|show|diff|retention`: tools for information-governance leads."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer

from deploy.protocol_files import configured_register, protocol_paths, table_problems
from sharing_protocols.catalogue import CATALOGUE
from sharing_protocols.checks import check_document, describe
from sharing_protocols.decision import ProtocolRegister
from sharing_protocols.documents import DocumentError, load_yaml
from sharing_protocols.perturbation import check_table_document, is_table_document
from sharing_protocols.protocol import Protocol, ProtocolError, parse_protocol
from sharing_protocols.protocol_diff import diff_protocols
from sharing_protocols.retention_register import retention_register

protocols = typer.Typer(help="Information-sharing protocols.", no_args_is_help=True)


def register_or_exit(refused: str) -> ProtocolRegister:
    """The configured register; when it cannot be read, its problems and "the protocol register cannot be read, so
    `refused`" on stderr, and exit 1."""
    try:
        return configured_register()
    except (ProtocolError, FileNotFoundError) as exc:
        for problem in getattr(exc, "problems", [exc]):
            typer.echo(str(problem), err=True)
        typer.echo(f"the protocol register cannot be read, so {refused}", err=True)
        raise typer.Exit(1) from None


def _is_table(text: str, source_name: str) -> bool:
    """Whether a document is a perturbation table (a syntax error is left for the protocol check to report)."""
    try:
        return is_table_document(load_yaml(text, source_name))
    except DocumentError:
        return False


def _parse(path: Path) -> Protocol:
    try:
        return parse_protocol(path.read_text(encoding="utf-8"), str(path))
    except ProtocolError as exc:
        for problem in exc.problems:
            typer.echo(str(problem), err=True)
        raise typer.Exit(1) from None


@protocols.command()
def check(
    paths: Annotated[list[Path], typer.Argument(help="protocol or perturbation-table files, or directories")],
    today: Annotated[str | None, typer.Option(help="as if on this date (YYYY-MM-DD)")] = None,
) -> None:
    """Check protocol documents and perturbation tables (`kind: perturbation_table`); every problem is printed as
    FILE: FIELD: PROBLEM. Exit 1 if any."""
    day = date.fromisoformat(today) if today else datetime.now(UTC).date()
    failed = 0
    for path in protocol_paths(paths):
        if not path.is_file():
            typer.echo(f"{path}: no such file", err=True)
            failed += 1
            continue
        text = path.read_text(encoding="utf-8")
        if _is_table(text, str(path)):
            problems = check_table_document(text, str(path))
        else:
            problems = check_document(text, str(path), CATALOGUE, day)
            if not problems:
                problems = table_problems(parse_protocol(text, str(path)), str(path))
        for problem in problems:
            typer.echo(str(problem), err=True)
        failed += bool(problems)
        if not problems:
            typer.echo(f"{path}: ok")
    if failed:
        raise typer.Exit(1)


@protocols.command("list")
def list_() -> None:
    """The protocols the hub enforces (HUB_PROTOCOLS_PATHS), with whether each is in force today."""
    register = configured_register()
    today = datetime.now(UTC).date()
    for p in register.protocols:
        reason = register.not_in_force_reason(p, today)
        state = "in force" if reason is None else f"not in force: {reason}"
        typer.echo(f"{p.label:<36} {p.status:<9} review {p.review_due}  {state}")


@protocols.command()
def show(protocol_id: str, version: int | None = None) -> None:
    """Describe one protocol of the register (the highest version unless --version)."""
    try:
        typer.echo(describe(configured_register().get(protocol_id, version)))
    except KeyError as exc:
        typer.echo(str(exc.args[0]) if exc.args else f"no protocol {protocol_id!r}", err=True)
        raise typer.Exit(1) from None


@protocols.command()
def diff(a: Path, b: Path) -> None:
    """What changed between two versions of a protocol document."""
    changes = diff_protocols(_parse(a), _parse(b))
    for line in changes or ["no changes"]:
        typer.echo(line)


@protocols.command()
def retention(
    today: Annotated[str | None, typer.Option(help="as if on this date (YYYY-MM-DD)")] = None,
    dataset: Annotated[str | None, typer.Option(help="only this dataset")] = None,
) -> None:
    """How long each field of each dataset is kept: per field, the longest retention of the clauses in force that
    release it, the last day an event loaded today keeps it, and the clause(s) giving it."""
    try:
        day = date.fromisoformat(today) if today else datetime.now(UTC).date()
    except ValueError:
        typer.echo(f"--today: {today!r} is not a date (YYYY-MM-DD)", err=True)
        raise typer.Exit(1) from None
    kept = [k for k in retention_register(configured_register(), day) if dataset in (None, k.dataset)]
    if not kept:
        typer.echo(f"no protocol in force on {day.isoformat()} releases " + (dataset or "any dataset"), err=True)
        raise typer.Exit(1)
    typer.echo(f"{'dataset':<24} {'field':<24} {'kept for':<10} {'until':<10}  clauses")
    for k in kept:
        clauses = ", ".join(str(ref) for ref in k.clauses)
        typer.echo(f"{k.dataset:<24} {k.field:<24} {k.retention!s:<10} {k.keep_until.isoformat():<10}  {clauses}")
