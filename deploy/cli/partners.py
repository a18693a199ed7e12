"""`hub partners add|list|revoke|rotate`: each partner's credential on the broker and the topics it may write.

A partner is a data owner named by the protocol register; `add` makes its topics (`<prefix>.events.<dataset>.<id>`)
and a SCRAM principal `<prefix>.partner.<id>` that may write exactly those. Passwords are printed once and kept
nowhere by the hub. Run as the operator: HUB_KAFKA_USERNAME/PASSWORD of an admin, or the embedded broker's hub-admin.
"""

from __future__ import annotations

from typing import Annotated

import typer
from kafka.errors import KafkaError

from broker_access.credentials import BrokerAccess
from deploy.broker_principals import (
    PARTNER_ID,
    BrokerAdmin,
    PartnerGrant,
    PrincipalError,
    add_partner,
    list_partners,
    revoke_partner,
    rotate_partner,
)
from deploy.cli.protocols import register_or_exit
from deploy.settings import BrokerCredentialsError, KafkaSettings, broker_access

partners = typer.Typer(
    help="Partners' credentials on the broker: who may publish which datasets.", no_args_is_help=True
)

PartnerArgument = Annotated[str, typer.Argument(help="the partner's id, as the protocol register names the data owner")]


def _partner_id(partner: str) -> str:
    if not PARTNER_ID.fullmatch(partner):
        raise typer.BadParameter(f"{partner!r} is not a partner id ([a-z0-9][a-z0-9-]*)", param_hint="PARTNER")
    return partner


def _datasets(partner: str, requested: str | None) -> list[str]:
    """The datasets to grant: those asked for, each provided by the partner under the register, else all it provides."""
    register = register_or_exit("no partner is added")
    provided = register.provided_datasets().get(partner, frozenset())
    if not provided:
        raise typer.BadParameter(
            f"{partner} is not a data owner in the protocol register (HUB_PROTOCOLS_PATHS): name it in a "
            "protocol's data_owners first (`hub protocols check`)",
            param_hint="PARTNER",
        )
    if requested is None:
        return sorted(provided)
    wanted = [name.strip() for name in requested.split(",") if name.strip()]
    if not wanted:
        raise typer.BadParameter("name at least one dataset", param_hint="--datasets")
    refused = sorted(set(wanted) - provided)
    if refused:
        raise typer.BadParameter(
            f"{partner} does not provide {', '.join(refused)} under any protocol (it provides "
            f"{', '.join(sorted(provided))})",
            param_hint="--datasets",
        )
    return sorted(set(wanted))


def _admin() -> tuple[BrokerAccess, KafkaSettings]:
    try:
        return broker_access("admin"), KafkaSettings()
    except BrokerCredentialsError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


def _refused(exc: Exception) -> typer.Exit:
    """Say why the broker (or the partner's state) refused, without a traceback."""
    reason = str(exc) if isinstance(exc, PrincipalError) else f"the broker refused or did not answer: {exc!r}"
    typer.echo(reason, err=True)
    return typer.Exit(1)


def _print_secret(grant: PartnerGrant, password: str, access: BrokerAccess) -> None:
    ca = str(access.ca_file) if access.ca_file else "(the system's trust store)"
    typer.echo(f"partner:   {grant.partner}")
    typer.echo(f"topics:    {', '.join(grant.topics)}")
    typer.echo(f"bootstrap: {access.servers}")
    typer.echo(f"CA file:   {ca}")
    typer.echo(f"username:  {grant.username}")
    typer.echo(f"password:  {password}")
    typer.echo(
        "The password is shown this once and kept nowhere by the hub: give it to the partner over a secure channel, "
        "with the CA file. The partner publishes with HUB_KAFKA_BOOTSTRAP, HUB_KAFKA_USERNAME, HUB_KAFKA_PASSWORD "
        "and HUB_KAFKA_CA_FILE set (README, 'Adding a partner').",
        err=True,
    )


@partners.command("add")
def add(
    partner: PartnerArgument,
    datasets: Annotated[
        str | None, typer.Option(help="comma-separated datasets (default: every dataset it provides under a protocol)")
    ] = None,
) -> None:
    """Make the partner's topics and a credential that may write exactly those; print the password once."""
    partner = _partner_id(partner)
    names = _datasets(partner, datasets)
    access, kafka = _admin()
    try:
        with BrokerAdmin(access) as admin:
            grant, password = add_partner(
                admin, kafka.topic_prefix, partner, names, kafka.partitions, kafka.topic_configs
            )
    except (PrincipalError, KafkaError) as exc:
        raise _refused(exc) from None
    _print_secret(grant, password, access)


@partners.command("list")
def list_() -> None:
    """The partners with a credential and the topics each may write (never a password)."""
    access, kafka = _admin()
    try:
        with BrokerAdmin(access) as admin:
            grants = list_partners(admin, kafka.topic_prefix)
    except (PrincipalError, KafkaError) as exc:
        raise _refused(exc) from None
    if not grants:
        typer.echo("no partners have a credential (`hub partners add ID`)")
    for grant in grants:
        typer.echo(f"{grant.partner:<28} {grant.username:<40} {', '.join(grant.topics) or '(no topics)'}")


@partners.command()
def revoke(partner: PartnerArgument) -> None:
    """Revoke the partner: seal its credential (the broker refuses it from now) and delete its ACLs; its topics stay,
    so the worker drains what it published."""
    partner = _partner_id(partner)
    access, kafka = _admin()
    try:
        with BrokerAdmin(access) as admin:
            had_credential, removed = revoke_partner(admin, kafka.topic_prefix, partner)
    except (PrincipalError, KafkaError) as exc:
        raise _refused(exc) from None
    if not had_credential and not removed:
        typer.echo(f"{partner} has no credential and no ACLs: nothing to revoke", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"{partner}: credential {'deleted' if had_credential else 'absent'}, {removed} ACLs removed; topics kept"
    )


@partners.command()
def rotate(partner: PartnerArgument) -> None:
    """Give the partner a new password (the old one stops working); print it once."""
    partner = _partner_id(partner)
    access, kafka = _admin()
    try:
        with BrokerAdmin(access) as admin:
            password = rotate_partner(admin, kafka.topic_prefix, partner)
            [grant] = [g for g in list_partners(admin, kafka.topic_prefix) if g.partner == partner]
    except (PrincipalError, KafkaError) as exc:
        raise _refused(exc) from None
    _print_secret(grant, password, access)
