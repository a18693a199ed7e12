"""`hub keys create|list|revoke`: API keys per organisation and role."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from api.caller import HUB_OPERATOR
from deploy.cli.protocols import register_or_exit
from deploy.settings import warehouse_settings
from warehouse.governance.key_policy import EXPIRY_FORMS, KeyRequestError, check_key_org, parse_expiry
from warehouse.governance.keys import ROLES, create_key, list_keys, revoke_key
from warehouse.schema.db import session_scope

keys = typer.Typer(help="API keys per organisation and role.", no_args_is_help=True)


@keys.command("create")
def create(
    org: Annotated[
        str,
        typer.Option(help=f"organisation id: a data owner or recipient in the protocol register, or {HUB_OPERATOR!r}"),
    ],
    role: Annotated[str, typer.Option(help=f"one of {', '.join(ROLES)}")],
    expires: Annotated[str | None, typer.Option(help=f"{EXPIRY_FORMS}; default: until revoked")] = None,
) -> None:
    """Issue an API key; the key is printed once and only its hash is kept."""
    if role not in ROLES:
        raise typer.BadParameter(f"must be one of {', '.join(ROLES)}", param_hint="--role")
    register = register_or_exit("no key is issued")
    try:
        check_key_org(org, role, register, HUB_OPERATOR)
    except KeyRequestError as exc:
        raise typer.BadParameter(str(exc), param_hint="--org") from None
    try:
        expires_at = parse_expiry(expires, datetime.now(UTC)) if expires is not None else None
    except KeyRequestError as exc:
        raise typer.BadParameter(str(exc), param_hint="--expires") from None
    with session_scope(warehouse_settings().url) as session:
        typer.echo(create_key(session, org, role, expires_at))
    if expires_at is not None:
        typer.echo(f"expires {_moment(expires_at)}", err=True)


def _moment(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%MZ") if at is not None else "-"


@keys.command("list")
def list_(org: Annotated[str | None, typer.Option(help="only this organisation's keys")] = None) -> None:
    """Every key: id, organisation, role, created, expires, last used, revoked, state; never a secret or hash."""
    with session_scope(warehouse_settings().url) as session:
        records = list_keys(session, org)
    if not records:
        typer.echo("no keys" + (f" for {org!r}" if org is not None else ""), err=True)
        return
    header = ("key_id", "org", "role", "created", "expires", "last_used", "revoked", "state")
    rows = [
        (
            r.key_id,
            r.org,
            r.role,
            _moment(r.created_at),
            _moment(r.expires_at),
            _moment(r.last_used_at),
            _moment(r.revoked_at),
            r.status,
        )
        for r in records
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@keys.command("revoke")
def revoke(key_id: str) -> None:
    """Revoke a key by its id (the part after `hub_`); it is refused from the next request."""
    with session_scope(warehouse_settings().url) as session:
        if not revoke_key(session, key_id):
            typer.echo(f"no active key {key_id!r}", err=True)
            raise typer.Exit(1)
    typer.echo(f"revoked {key_id}")
