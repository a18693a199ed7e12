"""The protocol document format: parsing YAML text into frozen models, and what the models compute."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from sharing_protocols.disclosure import DisclosureControl
from sharing_protocols.documents import format_path
from sharing_protocols.protocol import (
    LEGAL_GATEWAYS,
    Protocol,
    ProtocolError,
    Retention,
    parse_protocol,
)

DOCUMENT = """\
id: sussex-police-to-csps
version: 3
title: Sussex Police recorded crime to East Sussex CSPs
status: active
valid_from: 2026-04-01
review_due: 2027-09-30
expires: 2029-03-31
dpia_reference: SP-DPIA-2026-002
data_owners:
  - id: sussex-police
    name: Sussex Police
    datasets: [police-uk-street]
recipients:
  - id: east-sussex-csp
    name: East Sussex Community Safety Partnership
    kind: csp
  - id: eastbourne-csp
    name: Eastbourne Community Safety Partnership
    kind: csp
purposes:
  - Strategic assessment of crime and disorder
legal_gateways:
  - ref: cda-1998-s115
  - ref: other
    citation: Local agreement under the county Community Safety Agreement
datasets: police-uk-street
retention:
  months: 24
signatories:
  - role: Senior Information Risk Owner
    organisation: sussex-police
clauses:
  - id: ward-records
    recipients: eastbourne-csp
    datasets: [police-uk-street]
    fields: [category, period, location, last_outcome_category]
    spatial_precision: ward
    temporal_precision: month
    output: record_level
  - id: county-violence-counts
    recipients: [east-sussex-csp]
    datasets: [police-uk-street]
    fields: [category, period, location]
    spatial_precision: district
    temporal_precision: month
    output: aggregates_only
    disclosure: {min_cell_count: 8, round_to: 5}
    categories: [violent-crime, robbery]
"""


def test_a_document_parses_into_frozen_models() -> None:
    protocol = parse_protocol(DOCUMENT, "sussex.yaml")
    assert protocol.label == "sussex-police-to-csps@3"
    assert protocol.valid_from == date(2026, 4, 1)
    assert protocol.datasets == ("police-uk-street",)  # a single string is read as a one-item list
    assert protocol.owner_ids == frozenset({"sussex-police"})
    first, second = protocol.clauses
    assert first.recipients == ("eastbourne-csp",)
    assert first.pseudonym_linkage is False and first.disclosure is None and first.categories is None
    assert second.disclosure == DisclosureControl(min_cell_count=8, round_to=5)
    assert second.covers_category("robbery") and not second.covers_category("burglary")
    with pytest.raises(ValidationError):
        protocol.status = "suspended"  # type: ignore[misc]


def test_legal_gateways_cite_the_hub_text_or_their_own() -> None:
    gateways = parse_protocol(DOCUMENT, "sussex.yaml").legal_gateways
    assert gateways[0].text == LEGAL_GATEWAYS["cda-1998-s115"]
    assert "Crime and Disorder Act 1998, s115" in gateways[0].text
    assert gateways[1].text == "Local agreement under the county Community Safety Agreement"
    assert "SI 2007/1831" in LEGAL_GATEWAYS["cda-1998-s17a"]


def test_the_parsed_protocol_round_trips_through_its_own_dump() -> None:
    protocol = parse_protocol(DOCUMENT, "sussex.yaml")
    assert Protocol.model_validate(protocol.model_dump()) == protocol


@pytest.mark.parametrize(
    ("status", "on", "reason"),
    [
        ("active", date(2026, 11, 22), None),
        ("active", date(2026, 4, 1), None),  # the first day
        ("active", date(2027, 9, 30), None),  # the review day itself still counts
        ("active", date(2026, 3, 31), "not valid until 2026-04-01"),
        ("active", date(2027, 10, 1), "review overdue since 2027-09-30"),
        ("draft", date(2026, 11, 22), "status is draft"),
        ("suspended", date(2026, 11, 22), "status is suspended"),
        ("expired", date(2026, 11, 22), "status is expired"),
    ],
)
def test_when_a_protocol_is_in_force(status: str, on: date, reason: str | None) -> None:
    protocol = parse_protocol(DOCUMENT.replace("status: active", f"status: {status}"), "s.yaml")
    assert protocol.not_in_force_reason(on) == reason


def test_after_expiry_nothing_is_in_force() -> None:
    text = DOCUMENT.replace("review_due: 2027-09-30", "review_due: 2030-01-31")
    protocol = parse_protocol(text, "s.yaml")
    assert protocol.not_in_force_reason(date(2029, 3, 31)) is None
    assert protocol.not_in_force_reason(date(2029, 4, 1)) == "expired on 2029-03-31"


@pytest.mark.parametrize(
    ("retention", "received", "until"),
    [
        ({"days": 90}, date(2026, 1, 1), date(2026, 4, 1)),
        ({"months": 24}, date(2026, 1, 31), date(2028, 1, 31)),
        ({"months": 1}, date(2026, 1, 31), date(2026, 2, 28)),  # clamped to the month's end
        ({"months": 13}, date(2027, 12, 15), date(2029, 1, 15)),
    ],
)
def test_retention_gives_the_last_day_to_keep(retention: dict[str, int], received: date, until: date) -> None:
    assert Retention.model_validate(retention).keep_until(received) == until


def test_retention_needs_exactly_one_unit() -> None:
    for bad in ({}, {"days": 1, "months": 1}):
        with pytest.raises(ValidationError, match="exactly one"):
            Retention.model_validate(bad)


def test_field_paths_are_written_as_in_the_document() -> None:
    assert format_path(("clauses", 1, "fields", 3)) == "clauses[1].fields[3]"
    assert format_path(("retention", "months")) == "retention.months"
    assert format_path(()) == ""


def test_a_key_given_twice_is_an_error_not_silently_the_last() -> None:
    text = DOCUMENT.replace("    output: record_level\n", "    output: record_level\n    output: aggregates_only\n", 1)
    with pytest.raises(ProtocolError) as info:
        parse_protocol(text, "twice.yaml")
    (problem,) = info.value.problems
    assert problem.source == "twice.yaml"
    line = text.splitlines().index("    output: aggregates_only") + 1
    assert problem.message == f"YAML syntax error at line {line}, column 5: found a duplicate key"


def test_yaml_tags_that_build_objects_are_refused() -> None:
    with pytest.raises(ProtocolError, match="YAML syntax error"):
        parse_protocol("id: !!python/object/apply:os.system ['true']\n", "evil.yaml")


def test_protocol_error_lists_every_problem_with_its_source() -> None:
    text = DOCUMENT.replace("version: 3", "version: 0").replace("kind: csp", "kind: council", 1)
    with pytest.raises(ProtocolError) as info:
        parse_protocol(text, "two.yaml")
    assert [(p.source, p.path) for p in info.value.problems] == [
        ("two.yaml", "version"),
        ("two.yaml", "recipients[0].kind"),
    ]
    assert str(info.value).splitlines()[0].startswith("two.yaml: version: ")


def test_a_clause_may_state_the_cell_key_method_with_its_table() -> None:
    text = DOCUMENT.replace(
        "disclosure: {min_cell_count: 8, round_to: 5}", "disclosure: {method: cell_key, table: hub-cell-key@1}"
    )
    control = parse_protocol(text, "sussex.yaml").clauses[1].disclosure
    assert control is not None and (control.method, control.table) == ("cell_key", "hub-cell-key@1")
    # the NHS rule it carries, for figures the method cannot perturb or shares with threshold clauses
    assert (control.min_cell_count, control.round_to) == (8, 5)
    assert str(control) == "cell key perturbation, table hub-cell-key@1"
    assert DisclosureControl(min_cell_count=8).method == "threshold"


@pytest.mark.parametrize(
    ("block", "path", "message"),
    [
        ("{method: cell_key}", "clauses[1].disclosure", "names its perturbation table"),
        ("{method: cell_key, table: hub-cell-key@1, round_to: 5}", "clauses[1].disclosure", "states no round_to"),
        ("{method: cell_key, table: hub-cell-key}", "clauses[1].disclosure.table", "id@version"),
        ("{min_cell_count: 8, table: hub-cell-key@1}", "clauses[1].disclosure", "for method cell_key only"),
        ("{round_to: 5}", "clauses[1].disclosure.min_cell_count", "is required"),
        ("{method: noise, table: hub-cell-key@1}", "clauses[1].disclosure.method", "'threshold' or 'cell_key'"),
    ],
)
def test_a_disclosure_block_that_does_not_fit_its_method_is_refused(block: str, path: str, message: str) -> None:
    text = DOCUMENT.replace("disclosure: {min_cell_count: 8, round_to: 5}", f"disclosure: {block}")
    with pytest.raises(ProtocolError) as raised:
        parse_protocol(text, "sussex.yaml")
    assert any(p.path == path and message in p.message for p in raised.value.problems), raised.value.problems
