"""`hub partners`: what the protocol register allows is checked before the broker is asked anything (exit 2)."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from deploy.cli import app, partners
from deploy.protocol_files import register_at


@pytest.fixture(autouse=True)
def no_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to reach the broker fails the test: these refusals come from the arguments alone."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the broker was asked")

    monkeypatch.setattr(partners, "BrokerAdmin", refuse)
    monkeypatch.delenv("HUB_PROTOCOLS_PATHS", raising=False)


def _run(*args: str) -> tuple[int, str]:
    """The exit code and the output as one line of words (without the frame rich draws around errors)."""
    result = CliRunner().invoke(app, ["partners", *args])
    return result.exit_code, " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.output).split())


def test_a_dataset_the_partner_does_not_provide_is_refused_naming_it() -> None:
    code, output = _run("add", "esfrs", "--datasets", "fire-incidents,police-records")
    assert (code, "esfrs does not provide police-records" in output) == (2, True)


def test_an_organisation_that_is_no_data_owner_is_refused() -> None:
    code, output = _run("add", "acme-ltd")
    assert (code, "acme-ltd is not a data owner in the protocol register" in output) == (2, True)


@pytest.mark.parametrize("command", ["add", "revoke", "rotate"])
def test_a_partner_id_that_is_not_a_slug_is_refused(command: str) -> None:
    code, output = _run(command, "Sussex.Police")
    assert (code, "'Sussex.Police' is not a partner id" in output) == (2, True)


def test_an_empty_dataset_list_is_refused() -> None:
    assert _run("add", "esfrs", "--datasets", " , ")[0] == 2


def test_the_datasets_a_partner_provides_come_from_every_protocol_naming_it() -> None:
    register = register_at([])  # the packaged protocols
    assert register.provided_datasets()["sussex-police"] == {"police-records", "police-uk-street"}


def test_without_a_credential_for_an_external_broker_the_operator_is_told_what_to_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("USERNAME", "PASSWORD"):
        monkeypatch.delenv(f"HUB_KAFKA_{name}", raising=False)
    monkeypatch.setenv("HUB_KAFKA_BOOTSTRAP", "kafka.example:9093")
    code, output = _run("list")
    assert (code, "set HUB_KAFKA_USERNAME and HUB_KAFKA_PASSWORD" in output) == (2, True)
