"""`hub keys create|revoke`: API keys per organisation and role."""

from __future__ import annotations

from typing import Annotated

import typer

from deploy.settings import warehouse_settings
from warehouse.governance.keys import ROLES, create_key, revoke_key
from warehouse.schema.db import session_scope

keys = typer.Typer(help="API keys per organisation and role.", no_args_is_help=True)


@keys.command("create")
def create(
    org: Annotated[str, typer.Option(help="organisation id, as the protocols name it (e.g. eastbourne-csp)")],
    role: Annotated[str, typer.Option(help=f"one of {', '.join(ROLES)}")],
) -> None:
    """Issue an API key; the key is printed once and only its hash is kept."""
    if role not in ROLES:
        raise typer.BadParameter(f"must be one of {', '.join(ROLES)}", param_hint="--role")
    with session_scope(warehouse_settings().url) as session:
        typer.echo(create_key(session, org, role))


@keys.command("revoke")
def revoke(key_id: str) -> None:
    """Revoke a key by its id (the part after `hub_`)."""
    with session_scope(warehouse_settings().url) as session:
        if not revoke_key(session, key_id):
            typer.echo(f"no active key {key_id!r}", err=True)
            raise typer.Exit(1)
    typer.echo(f"revoked {key_id}")
