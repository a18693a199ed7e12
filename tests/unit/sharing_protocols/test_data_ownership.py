"""Data ownership in the register: a data owner provides only the datasets it lists, the decision engine withholds
another partner's events of them (`not_data_owner`), and the checks refuse a clause no data owner supplies."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from deploy.cli import app
from deploy.protocol_files import load_register, packaged_protocols_dir
from sharing_protocols.catalogue import CATALOGUE
from sharing_protocols.checks import check_document, describe
from sharing_protocols.decision import (
    ClauseRef,
    EventFacts,
    ProtocolRegister,
    Released,
    Withheld,
    decide,
    decide_for_warehouse,
)
from sharing_protocols.protocol import ProtocolError, build_protocol, parse_protocol
from sharing_protocols.protocol_diff import diff_protocols
from warehouse.queries.quality import _expected_feeds

IN_FORCE = date(2026, 11, 1)  # every packaged protocol named below is in force on this day
BEFORE = date(2026, 8, 1)  # before repeat-victimisation-counts and police-records-to-csp start
AREAS = {"lsoa": "E01020999", "ward": "E05011870", "district": "E07000061"}


def _event(partner: str, dataset: str = "police-records", **changes: Any) -> EventFacts:
    values: dict[str, Any] = {
        "event_id": uuid.UUID(int=7),
        "dataset": dataset,
        "partner": partner,
        "category": "violence-against-the-person",
        "period_start": date(2025, 3, 14),
        "period_end": date(2025, 3, 14),
        "period_precision": "day",
        "x": 561_234.5,
        "y": 98_765.4,
        "areas": AREAS,
        "attributes": {"victim_pseudonym": "v" * 64, "domestic_abuse": True, "hour": 23},
    }
    return EventFacts(**(values | changes))


@pytest.fixture(scope="module")
def packaged() -> ProtocolRegister:
    return load_register([packaged_protocols_dir()])


# The attack of issue 12: the council publishes police-records and they are counted as the police's.


def test_police_records_published_as_the_council_are_withheld_as_not_data_owner(packaged: ProtocolRegister) -> None:
    forged = _event("eastbourne-council")
    for decision in (
        decide_for_warehouse(forged, packaged, IN_FORCE),
        decide(forged, "eastbourne-csp", packaged, IN_FORCE),
        decide(forged, "east-sussex-csp", packaged, IN_FORCE),
    ):
        assert isinstance(decision, Withheld)
        assert decision.code == "not_data_owner"
        assert decision.reason == (
            "partner eastbourne-council is not a data owner of dataset police-records under "
            "repeat-victimisation-counts@1"
        )
        assert "v" * 64 not in str(decision.audit_record())  # never the event's contents


def test_the_real_owners_police_records_are_released_under_both_protocols(packaged: ProtocolRegister) -> None:
    decision = decide_for_warehouse(_event("sussex-police"), packaged, IN_FORCE)
    assert isinstance(decision, Released)
    # By hand from the YAML: the two clauses granting police-records, both protocols naming Sussex Police for it.
    assert set(decision.justifications) == {
        ClauseRef("police-records-to-csp@1", "ward-day-records"),
        ClauseRef("repeat-victimisation-counts@1", "police-repeat-victim-counts"),
    }
    assert decide(_event("sussex-police"), "eastbourne-csp", packaged, IN_FORCE).released


def test_the_council_still_provides_its_own_dataset(packaged: ProtocolRegister) -> None:
    decision = decide_for_warehouse(
        _event("eastbourne-council", "council-asb", category="rowdy-behaviour"), packaged, IN_FORCE
    )
    assert isinstance(decision, Released)
    assert ClauseRef("repeat-victimisation-counts@1", "council-repeat-victim-counts") in decision.justifications
    assert all(ref.clause != "police-repeat-victim-counts" for ref in decision.justifications)


def test_not_data_owner_holds_whether_or_not_the_protocol_is_in_force(packaged: ProtocolRegister) -> None:
    decision = decide_for_warehouse(_event("eastbourne-council"), packaged, BEFORE)
    assert isinstance(decision, Withheld) and decision.code == "not_data_owner"
    owner = decide_for_warehouse(_event("sussex-police"), packaged, BEFORE)
    assert isinstance(owner, Withheld) and owner.code == "not_in_force"


def test_a_partner_no_protocol_names_is_still_no_grant(packaged: ProtocolRegister) -> None:
    decision = decide_for_warehouse(_event("kent-police"), packaged, IN_FORCE)
    assert isinstance(decision, Withheld) and decision.code == "no_grant"
    assert decision.reason == "no protocol grants the warehouse dataset police-records from partner kent-police"


def test_a_recipient_no_clause_names_is_no_grant_not_ownership(packaged: ProtocolRegister) -> None:
    decision = decide(_event("eastbourne-council"), "essex-csp", packaged, IN_FORCE)
    assert isinstance(decision, Withheld) and decision.code == "no_grant"


def test_the_council_is_given_no_time_precision_for_police_records(packaged: ProtocolRegister) -> None:
    assert packaged.finest_temporal_precision("police-records", "eastbourne-council", IN_FORCE) is None
    assert packaged.finest_temporal_precision("police-records", "sussex-police", IN_FORCE) == "timestamp"
    assert packaged.finest_temporal_precision("council-asb", "eastbourne-council", IN_FORCE) == "timestamp"


def test_data_quality_expects_each_dataset_only_from_its_owners(packaged: ProtocolRegister) -> None:
    expected = _expected_feeds(packaged, datetime(2026, 11, 1, tzinfo=UTC))
    assert ("police-records", "eastbourne-council") not in expected
    assert ("council-asb", "sussex-police") not in expected
    assert expected[("police-records", "sussex-police")] == ["police-records-to-csp@1", "repeat-victimisation-counts@1"]
    assert expected[("council-asb", "eastbourne-council")] == ["council-asb-to-csp@1", "repeat-victimisation-counts@1"]


# Ownership is per protocol: owning a dataset under one protocol does not carry over to another.


def _doc(owners: list[dict[str, Any]], clauses: list[dict[str, Any]], protocol_id: str = "p") -> dict[str, Any]:
    return {
        "id": protocol_id,
        "version": 1,
        "title": "Ownership test",
        "status": "active",
        "valid_from": date(2026, 1, 1),
        "review_due": date(2027, 12, 31),
        "data_owners": owners,
        "recipients": [{"id": "csp-a", "name": "CSP A", "kind": "csp"}],
        "purposes": ["Testing"],
        "legal_gateways": [{"ref": "cda-1998-s115"}],
        "datasets": sorted({d for clause in clauses for d in clause["datasets"]}),
        "retention": {"months": 12},
        "signatories": [{"role": "SIRO", "organisation": owners[0]["id"]}],
        "clauses": clauses,
    }


def _grant(clause_id: str, dataset: str) -> dict[str, Any]:
    return {
        "id": clause_id,
        "recipients": ["csp-a"],
        "datasets": [dataset],
        "fields": ["category", "period"],
        "temporal_precision": "month",
        "output": "record_level",
    }


def test_ownership_is_judged_protocol_by_protocol() -> None:
    shared = build_protocol(
        _doc(
            [
                {"id": "police", "name": "Police", "datasets": ["police-records"]},
                {"id": "council", "name": "Council", "datasets": ["council-asb"]},
            ],
            [_grant("police", "police-records"), _grant("council", "council-asb")],
            "shared",
        ),
        "shared.yaml",
    )
    # A second protocol under which the council does provide police-records (say, records it holds as a partner).
    own = build_protocol(
        _doc(
            [{"id": "council", "name": "Council", "datasets": ["police-records"]}],
            [_grant("records", "police-records")],
            "own",
        ),
        "own.yaml",
    )
    register = ProtocolRegister([shared, own])
    decision = decide_for_warehouse(_event("council"), register, IN_FORCE)
    assert isinstance(decision, Released)
    assert decision.justifications == (ClauseRef("own@1", "records"),)
    chosen = decide(_event("council"), "csp-a", register, IN_FORCE)
    assert isinstance(chosen, Released) and chosen.chosen == ClauseRef("own@1", "records")
    # Without the second protocol the same event is not the council's to give.
    alone = decide_for_warehouse(_event("council"), ProtocolRegister([shared]), IN_FORCE)
    assert isinstance(alone, Withheld) and alone.code == "not_data_owner"
    assert decide_for_warehouse(_event("police"), ProtocolRegister([shared]), IN_FORCE).released


# The checks: a clause granting a dataset no data owner provides, an owner listing a dataset not covered.

GOOD = (packaged_protocols_dir() / "repeat-victimisation-counts.yaml").read_text(encoding="utf-8")
TODAY = date(2027, 1, 15)  # inside the packaged protocol's review period


def _edited(change: Any) -> str:
    doc = yaml.safe_load(GOOD)
    change(doc)
    return yaml.safe_dump(doc, sort_keys=False)


def test_the_packaged_document_passes() -> None:
    assert check_document(GOOD, "good.yaml", CATALOGUE, TODAY) == []


BROKEN: list[tuple[str, Any, str, str]] = [
    (
        "clause-without-owner",  # Sussex Police left out: nobody provides police-records any more
        lambda d: d["data_owners"][0].update(datasets=["council-asb"]),
        "clauses[0].datasets[0]",
        "is provided by no data owner of this protocol",
    ),
    (
        "owner-of-undeclared-dataset",
        lambda d: d["data_owners"][1]["datasets"].append("fire-incidents"),
        "data_owners[1].datasets[1]",
        "is not declared in datasets: the protocol does not cover it",
    ),
    (
        "owner-dataset-repeated",
        lambda d: d["data_owners"][1]["datasets"].append("council-asb"),
        "data_owners[1].datasets[1]",
        "repeats a dataset given earlier",
    ),
    ("owner-without-datasets", lambda d: d["data_owners"][0].pop("datasets"), "data_owners[0].datasets", "is required"),
    (
        "owner-with-no-datasets",
        lambda d: d["data_owners"][0].update(datasets=[]),
        "data_owners[0].datasets",
        "at least 1",
    ),
]


@pytest.mark.parametrize(("change", "path", "words"), [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN])
def test_check_names_file_field_path_and_problem(change: Any, path: str, words: str) -> None:
    problems = check_document(_edited(change), "isp.yaml", CATALOGUE, TODAY)
    assert [(p.source, p.path, words in p.message) for p in problems] == [("isp.yaml", path, True)], [
        str(p) for p in problems
    ]


def test_a_protocol_with_an_unowned_clause_is_refused_by_the_register() -> None:
    text = _edited(lambda d: d["data_owners"][0].update(datasets=["council-asb"]))
    with pytest.raises(ProtocolError, match=r"isp\.yaml: clauses\[0\]\.datasets\[0\]: is provided by no data owner"):
        parse_protocol(text, "isp.yaml")


def test_hub_protocols_check_rejects_the_unowned_clause(tmp_path: Path) -> None:
    path = tmp_path / "unowned.yaml"
    path.write_text(_edited(lambda d: d["data_owners"][0].update(datasets=["council-asb"])), encoding="utf-8")
    result = CliRunner().invoke(app, ["protocols", "check", str(path), "--today", TODAY.isoformat()])
    assert result.exit_code == 1
    assert f"{path}: clauses[0].datasets[0]: is provided by no data owner of this protocol" in result.output


def test_show_and_diff_say_who_provides_what() -> None:
    protocol = parse_protocol(GOOD, "good.yaml")
    text = describe(protocol)
    assert "    - sussex-police (Sussex Police), provides police-records\n" in text
    assert "    - eastbourne-council (Eastbourne Borough Council (ASB team)), provides council-asb\n" in text
    widened = parse_protocol(
        _edited(lambda d: d["data_owners"][1]["datasets"].append("police-records")), "widened.yaml"
    )
    assert diff_protocols(protocol, widened) == ["data owner eastbourne-council: dataset added: police-records"]
    assert diff_protocols(widened, protocol) == ["data owner eastbourne-council: dataset removed: police-records"]
