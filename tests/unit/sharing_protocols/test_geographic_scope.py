"""Geographic scope per clause: a scoped clause releases an event only inside its recipients' areas, and
`hub protocols check` refuses a scope it cannot apply. Expected areas come from the shared lookup file."""

from __future__ import annotations

import csv
import uuid
from datetime import date
from pathlib import Path

import pytest

from deploy.protocol_files import packaged_protocols_dir
from sharing_protocols.catalogue import CATALOGUE
from sharing_protocols.checks import check_document
from sharing_protocols.decision import EventFacts, ProtocolRegister, Released, Withheld, decide, decide_for_warehouse
from sharing_protocols.protocol import parse_protocol

LOOKUP = Path(__file__).resolve().parents[4] / "shared" / "data" / "lookups" / "lads_in_scope_csp_pfa_fra.csv"
ON = date(2026, 10, 1)


def _districts(column: str, name: str) -> list[str]:
    with LOOKUP.open(encoding="utf-8") as handle:
        return [row["lad_code"] for row in csv.DictReader(handle) if row[column] == name]


def _event(district: str, dataset: str = "police-uk-street", partner: str = "police-uk") -> EventFacts:
    return EventFacts(
        event_id=uuid.uuid4(),
        dataset=dataset,
        partner=partner,
        category="burglary",
        period_start=date(2026, 9, 1),
        period_end=date(2026, 9, 30),
        period_precision="month",
        areas={"ward": "E05000001", "district": district},
    )


@pytest.fixture(scope="module")
def register() -> ProtocolRegister:
    directory = packaged_protocols_dir()
    return ProtocolRegister(parse_protocol(p.read_text(encoding="utf-8"), p.name) for p in directory.glob("*.yaml"))


def test_an_essex_event_is_not_released_to_eastbourne_csp_and_a_sussex_one_is(register: ProtocolRegister) -> None:
    essex = _districts("utla_name", "Essex")
    eastbourne = _districts("csp24_name", "Eastbourne")
    assert essex and eastbourne == ["E07000061"]
    for district in essex:
        refused = decide(_event(district), "eastbourne-csp", register, ON)
        assert isinstance(refused, Withheld) and refused.code == "outside_scope", district
        assert isinstance(decide(_event(district), "essex-csp", register, ON), Released), district
    released = decide(_event(eastbourne[0]), "eastbourne-csp", register, ON)
    assert isinstance(released, Released)
    assert isinstance(decide(_event(eastbourne[0]), "essex-csp", register, ON), Withheld)


def test_every_district_outside_the_csp_areas_is_withheld_from_the_warehouse_clause(register: ProtocolRegister) -> None:
    hampshire = _districts("pfa24_name", "Hampshire")
    assert hampshire
    for district in hampshire:
        decision = decide(_event(district, "police-records", "sussex-police"), "east-sussex-csp", register, ON)
        assert isinstance(decision, Withheld) and decision.code == "outside_scope", district
    # The warehouse keeps an event under a scoped clause only when it lies inside some recipient's area.
    kept = decide_for_warehouse(_event("E07000062", "police-records", "sussex-police"), register, ON)  # Hastings
    assert isinstance(kept, Released)
    dropped = decide_for_warehouse(_event(hampshire[0], "police-records", "sussex-police"), register, ON)
    assert isinstance(dropped, Withheld) and dropped.code == "outside_scope"


def test_an_event_without_a_district_is_outside_the_scope(register: ProtocolRegister) -> None:
    event = EventFacts(
        event_id=uuid.uuid4(),
        dataset="police-uk-street",
        partner="police-uk",
        category="burglary",
        period_start=date(2026, 9, 1),
        period_end=date(2026, 9, 30),
        period_precision="month",
    )
    decision = decide(event, "eastbourne-csp", register, ON)
    assert isinstance(decision, Withheld) and decision.code == "outside_scope"


PROTOCOL = """
id: scoped
version: 1
title: Scoped test
status: active
valid_from: 2026-01-01
review_due: 2027-01-01
data_owners: [{id: sussex-police, name: Sussex Police, datasets: [police-records]}]
recipients:
  - {id: eastbourne-csp, name: Eastbourne CSP, kind: csp, area: {level: csp, code: E22000295}}
  - {id: lewes-csp, name: Lewes CSP, kind: csp}
purposes: [Testing]
legal_gateways: [{ref: cda-1998-s115}]
datasets: [police-records]
retention: {months: 12}
signatories: [{role: SIRO, organisation: sussex-police}]
clauses:
  - {id: records, recipients: [eastbourne-csp, lewes-csp], datasets: [police-records], fields: [category],
     output: aggregates_only, scope: {of: recipient}}
  - {id: county, recipients: [eastbourne-csp], datasets: [police-records], fields: [category], categories: [x],
     output: aggregates_only, scope: {level: county, codes: [E07000061, E1000001]}}
"""


def test_check_names_the_recipient_without_an_area_and_malformed_codes() -> None:
    problems = {(p.path, p.message.split(" ")[0]) for p in check_document(PROTOCOL, "scoped.yaml", CATALOGUE, ON)}
    paths = {path for path, _ in problems}
    assert "clauses[0].recipients[1]" in paths  # lewes-csp has no area
    assert "clauses[1].scope.codes[0]" in paths  # a district code is not a county code
    assert "clauses[1].scope.codes[1]" in paths  # eight characters
    assert "clauses[0].recipients[0]" not in paths
    messages = [str(p) for p in check_document(PROTOCOL, "scoped.yaml", CATALOGUE, ON)]
    assert any(m.startswith("scoped.yaml: clauses[0].recipients[1]: recipient lewes-csp has no area") for m in messages)


def test_a_recipient_area_with_a_code_of_the_wrong_level_is_refused() -> None:
    text = PROTOCOL.replace("area: {level: csp, code: E22000295}", "area: {level: pfa, code: E22000295}")
    paths = {p.path for p in check_document(text, "scoped.yaml", CATALOGUE, ON)}
    assert "recipients[0].area.code" in paths


def test_a_scope_with_both_or_neither_form_is_refused() -> None:
    for scope in ("{level: csp}", "{of: recipient, level: csp, codes: [E22000295]}", "{codes: [E22000295]}"):
        text = PROTOCOL.replace("scope: {of: recipient}", f"scope: {scope}")
        problems = check_document(text, "scoped.yaml", CATALOGUE, ON)
        assert any(p.path.startswith("clauses[0].scope") for p in problems), scope
