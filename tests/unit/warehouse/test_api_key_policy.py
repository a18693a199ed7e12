"""Which API keys may be issued: organisations the register names, and when a key given `--expires` stops working."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deploy.cli import app
from sharing_protocols.protocol import Protocol, parse_protocol
from warehouse.governance.key_policy import KeyRequestError, check_key_org, named_organisations, parse_expiry

OPERATOR = "hub"


def _protocol(protocol_id: str, status: str, owners: list[str], recipients: list[tuple[str, str]]) -> str:
    """A minimal protocol document with these data owners and (id, kind) recipients."""
    owner_lines = "".join(f"  - id: {o}\n    name: {o}\n    datasets: [police-uk-street]\n" for o in owners)
    recipient_lines = "".join(f"  - id: {r}\n    name: {r}\n    kind: {kind}\n" for r, kind in recipients)
    return f"""\
id: {protocol_id}
version: 1
title: Test protocol
status: {status}
valid_from: 2026-04-01
review_due: 2027-09-30
dpia_reference: T-1
data_owners:
{owner_lines}recipients:
{recipient_lines}purposes: [Testing]
legal_gateways:
  - ref: cda-1998-s115
datasets: police-uk-street
retention: {{months: 12}}
signatories:
  - role: SIRO
    organisation: {owners[0]}
clauses:
  - id: c
    recipients: [{recipients[0][0]}]
    datasets: [police-uk-street]
    fields: [category, period, location]
    spatial_precision: ward
    temporal_precision: month
    output: aggregates_only
"""


DOCUMENTS = {
    "a.yaml": _protocol("a", "active", ["kent-police"], [("medway-csp", "csp"), ("public", "public")]),
    "b.yaml": _protocol("b", "expired", ["kent-fire"], [("kent-county-council", "organisation")]),
}


@pytest.fixture
def register() -> list[Protocol]:
    return [parse_protocol(text, name) for name, text in DOCUMENTS.items()]


def test_the_register_names_its_data_owners_and_recipient_organisations_but_not_the_public(
    register: list[Protocol],
) -> None:
    assert named_organisations(register) == {"kent-police", "medway-csp", "kent-fire", "kent-county-council"}


@pytest.mark.parametrize(
    ("org", "role"),
    [
        ("kent-police", "partner"),  # a data owner
        ("medway-csp", "analyst"),  # a recipient CSP
        ("kent-county-council", "ig_lead"),  # named only by an expired protocol: still in the register
        (OPERATOR, "ig_lead"),  # the hub operator
        ("anyone-at-all", "public"),  # a public key reads only public clauses; its org only labels the log
    ],
)
def test_organisations_the_register_names_may_hold_keys(register: list[Protocol], org: str, role: str) -> None:
    check_key_org(org, role, register, OPERATOR)  # no exception


@pytest.mark.parametrize(
    ("org", "role"),
    [
        ("surrey-police", "analyst"),
        ("surrey-police", "ig_lead"),
        ("public", "analyst"),  # the public recipient is not an organisation
        ("medway-csp-2", "analyst"),  # a look-alike of a named one
    ],
)
def test_an_organisation_no_protocol_names_is_refused(register: list[Protocol], org: str, role: str) -> None:
    with pytest.raises(KeyRequestError, match=f"'{org}' is not a data owner or recipient") as refused:
        check_key_org(org, role, register, OPERATOR)
    assert "(organisations named: hub, kent-county-council, kent-fire, kent-police, medway-csp)" in str(refused.value)


@pytest.mark.parametrize("org", ["Medway-CSP", "medway-csp ", "medway-csp\n", "", "../medway-csp", "medway_csp"])
@pytest.mark.parametrize("role", ["analyst", "public"])
def test_an_id_that_is_not_a_slug_is_refused_for_every_role(register: list[Protocol], org: str, role: str) -> None:
    with pytest.raises(KeyRequestError, match="lower-case letters, digits and hyphens"):
        check_key_org(org, role, register, OPERATOR)


NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expires"),
    [
        ("2027-03-31", datetime(2027, 3, 31, 23, 0, tzinfo=UTC)),  # through 31 March; BST from 28 March 2027
        ("2027-01-31", datetime(2027, 2, 1, 0, 0, tzinfo=UTC)),  # GMT: UK midnight is UTC midnight
        ("2026-06-01", datetime(2026, 6, 1, 23, 0, tzinfo=UTC)),  # today: works until tonight's UK midnight
        ("90d", datetime(2026, 8, 30, 10, 0, tzinfo=UTC)),
        (" 1d ", datetime(2026, 6, 2, 10, 0, tzinfo=UTC)),
        ("36500d", NOW + timedelta(days=36500)),
    ],
)
def test_an_expiry_is_a_last_day_in_the_uk_or_a_number_of_days(value: str, expires: datetime) -> None:
    assert parse_expiry(value, NOW) == expires


@pytest.mark.parametrize(
    ("value", "now", "message"),
    [
        ("2026-05-31", NOW, "in the past"),
        ("2026-05-31", datetime(2026, 5, 31, 23, 30, tzinfo=UTC), "in the past"),  # 00:30 on 1 June in the UK
        ("2020-01-01", NOW, "in the past"),
        ("0d", NOW, "from 1 to 36500"),
        ("36501d", NOW, "from 1 to 36500"),
        ("999999999d", NOW, "from 1 to 36500"),  # no overflow traceback
        ("-5d", NOW, "must be a date YYYY-MM-DD"),
        ("90", NOW, "must be a date YYYY-MM-DD"),
        ("90D", NOW, "must be a date YYYY-MM-DD"),
        ("1.5d", NOW, "must be a date YYYY-MM-DD"),
        ("2027/03/31", NOW, "must be a date YYYY-MM-DD"),
        ("20270331", NOW, "must be a date YYYY-MM-DD"),
        ("2027-03-31T12:00", NOW, "must be a date YYYY-MM-DD"),
        ("", NOW, "must be a date YYYY-MM-DD"),
        ("2027-02-30", NOW, "is not a date"),
        ("9999-12-31", NOW, "too far ahead"),
    ],
)
def test_an_expiry_that_is_past_or_malformed_is_refused(value: str, now: datetime, message: str) -> None:
    with pytest.raises(KeyRequestError, match=message):
        parse_expiry(value, now)


def test_the_time_now_must_say_its_zone() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_expiry("90d", datetime(2026, 6, 1, 10, 0))


def _plain(message: str) -> str:
    """A CLI message without the box it is drawn in or its line breaks."""
    return " ".join(message.replace("│", " ").split())


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """HUB_* for the CLI: the test register, and a database that answers nothing (a refusal must come first)."""
    for name, text in DOCUMENTS.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return {
        "HUB_PROTOCOLS_PATHS": json.dumps([str(tmp_path)]),
        "HUB_DATABASE_URL": "postgresql+psycopg://nobody:wrong@127.0.0.1:9/none?connect_timeout=1",
    }


@pytest.mark.parametrize(
    ("options", "named", "words"),
    [
        (["--org", "surrey-police", "--role", "analyst"], "--org", "'surrey-police' is not a data owner or recipient"),
        (["--org", "medway-csp", "--role", "analyst", "--expires", "2020-01-01"], "--expires", "in the past"),
        (["--org", "medway-csp", "--role", "analyst", "--expires", "soon"], "--expires", "must be a date"),
        (["--org", "medway-csp", "--role", "owner"], "--role", "must be one of"),
    ],
)
def test_hub_keys_create_refuses_with_exit_2_before_touching_the_warehouse(
    cli_env: dict[str, str], options: list[str], named: str, words: str
) -> None:
    result = CliRunner(env=cli_env).invoke(app, ["keys", "create", *options])
    assert result.exit_code == 2, result.output
    assert named in result.output and words in _plain(result.output)
    assert "Traceback" not in result.output and "hub_" not in result.output


def test_hub_keys_create_says_which_protocol_file_is_broken(cli_env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    result = CliRunner(env=cli_env).invoke(app, ["keys", "create", "--org", "medway-csp", "--role", "analyst"])
    assert result.exit_code == 1, result.output
    assert "broken.yaml" in result.output and "no key is issued" in result.output
