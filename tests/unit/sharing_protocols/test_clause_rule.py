"""Which rule a clause has: its own block, else cell key with hub-cell-key@1 for aggregates-only clauses over
personal data only (catalogue kind "event"), else the NHS rule; and every reader sees the same rule."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest

from deploy.protocol_files import load_register, packaged_protocols_dir, table_problems
from sharing_protocols.catalogue import CATALOGUE
from sharing_protocols.checks import describe
from sharing_protocols.clause_rule import CELL_KEY_DEFAULT, clause_disclosure, clause_rule_text
from sharing_protocols.decision import EventFacts, ProtocolRegister, Released, decide
from sharing_protocols.disclosure import DisclosureControl, rule_for
from sharing_protocols.protocol import Clause, Protocol, build_protocol

TODAY = date(2026, 12, 2)


def _clause(datasets: list[str], output: str = "aggregates_only", **changes: Any) -> dict[str, Any]:
    return {
        "id": "counts",
        "recipients": ["eastbourne-csp"],
        "datasets": datasets,
        "fields": ["category", "period", "location"],
        "spatial_precision": "ward",
        "temporal_precision": "month",
        "output": output,
        **changes,
    }


def _protocol(clause: dict[str, Any]) -> Protocol:
    datasets = clause["datasets"]
    return build_protocol(
        {
            "id": "test-default-rule",
            "version": 1,
            "title": "Test of the default rule",
            "status": "active",
            "valid_from": date(2019, 1, 1),
            "review_due": date(2030, 1, 1),
            "data_owners": [{"id": "sussex-police", "name": "Sussex Police", "datasets": datasets}],
            "recipients": [{"id": "eastbourne-csp", "name": "Eastbourne CSP", "kind": "csp"}],
            "purposes": ["Testing"],
            "legal_gateways": [{"ref": "cda-1998-s115"}],
            "datasets": datasets,
            "retention": {"months": 24},
            "signatories": [{"role": "SIRO", "organisation": "sussex-police"}],
            "clauses": [clause],
        },
        "test.yaml",
    )


def _only_clause(datasets: list[str], output: str = "aggregates_only", **changes: Any) -> Clause:
    return _protocol(_clause(datasets, output, **changes)).clauses[0]


def test_the_default_table_is_the_hubs_cell_key_table() -> None:
    assert (CELL_KEY_DEFAULT.method, CELL_KEY_DEFAULT.table) == ("cell_key", "hub-cell-key@1")


@pytest.mark.parametrize("datasets", [["police-records"], ["marac-cases"], ["police-records", "marac-cases"]])
def test_an_aggregates_only_clause_over_personal_data_without_a_block_gets_cell_key(datasets: list[str]) -> None:
    expected = DisclosureControl.model_validate({"method": "cell_key", "table": "hub-cell-key@1"})
    assert clause_disclosure(_only_clause(datasets)) == expected


@pytest.mark.parametrize(
    "datasets",
    [
        ["aggregate-returns"],  # kind aggregate
        ["ons-population"],  # kind reference
        ["police-records", "aggregate-returns"],  # not all personal data
    ],
)
def test_a_clause_over_other_data_without_a_block_keeps_the_nhs_rule(datasets: list[str]) -> None:
    assert [CATALOGUE[name].kind for name in datasets] != ["event"] * len(datasets)  # the premise
    clause = _only_clause(datasets)
    assert clause_disclosure(clause) is None
    rule = rule_for([("p#counts", clause_disclosure(clause))])
    assert (rule.method, rule.min_cell_count, rule.round_to, rule.source) == ("threshold", 8, 5, "default")


def test_a_record_level_clause_without_a_block_keeps_the_nhs_rule() -> None:
    assert clause_disclosure(_only_clause(["police-records"], "record_level")) is None


@pytest.mark.parametrize(
    "block",
    [
        {"min_cell_count": 10, "round_to": 5},
        {"min_cell_count": 1, "round_to": 1},
        {"method": "cell_key", "table": "x@2"},
    ],
)
def test_a_stated_block_is_the_clauses_rule(block: dict[str, Any]) -> None:
    clause = _only_clause(["police-records"], disclosure=block)
    assert clause_disclosure(clause) == DisclosureControl.model_validate(block)


def test_the_kinds_come_from_the_catalogue_given() -> None:
    clause = _only_clause(["police-records"])
    as_aggregate = {"police-records": CATALOGUE["aggregate-returns"]}
    assert clause_disclosure(clause, as_aggregate) is None
    assert clause_disclosure(clause, {}) is None  # a dataset the catalogue does not hold is not personal data


def test_the_rule_of_such_a_clause_is_the_cell_key_rule_of_that_table() -> None:
    rule = rule_for([("p@1#counts", clause_disclosure(_only_clause(["police-records"])))])
    assert (rule.method, rule.table, rule.clauses, rule.source) == (
        "cell_key",
        "hub-cell-key@1",
        ("p@1#counts",),
        "protocol",
    )


def test_decisions_carry_the_clause_rule() -> None:
    protocol = _protocol(_clause(["police-records"]))
    register = ProtocolRegister([protocol])
    (grant,) = register.clauses_for("eastbourne-csp", TODAY, "police-records")
    assert grant.disclosure == CELL_KEY_DEFAULT
    event = EventFacts(
        event_id=uuid.UUID(int=7),
        dataset="police-records",
        partner="sussex-police",
        category="burglary",
        period_start=date(2024, 1, 1),
        period_end=date(2024, 1, 31),
        period_precision="month",
        x=561_234.5,
        y=98_765.4,
        areas={"ward": "E05011870", "district": "E07000061"},
        postcode=None,
        attributes={},
    )
    decision = decide(event, "eastbourne-csp", register, TODAY)
    assert isinstance(decision, Released), decision
    assert decision.disclosure == CELL_KEY_DEFAULT


def test_ig_leads_read_the_rule_in_plain_words() -> None:
    assert clause_rule_text(_only_clause(["police-records"])) == (
        "cell key perturbation, table hub-cell-key@1 (the default for aggregates-only clauses over personal data)"
    )
    assert (
        clause_rule_text(_only_clause(["aggregate-returns"]))
        == "1-7 suppressed, rounded to 5 (the NHS rule, the default)"
    )
    stated = _only_clause(["police-records"], disclosure={"min_cell_count": 10, "round_to": 5})
    assert clause_rule_text(stated) == "1-9 suppressed, rounded to 5"
    text = describe(_protocol(_clause(["police-records"])))
    assert "counts: cell key perturbation, table hub-cell-key@1 (the default for aggregates-only" in text


def test_the_check_of_tables_sees_the_default_table() -> None:
    assert table_problems(_protocol(_clause(["police-records"])), "t.yaml") == []


def test_every_packaged_clause_states_its_rule_so_packaged_behaviour_is_unchanged() -> None:
    register = load_register([packaged_protocols_dir()], CATALOGUE)
    clauses = [clause for protocol in register for clause in protocol.clauses]
    assert clauses
    assert [clause.id for clause in clauses if clause.disclosure is None] == []
    assert all(clause_disclosure(clause) == clause.disclosure for clause in clauses)
