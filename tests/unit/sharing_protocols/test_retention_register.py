"""The IG register's retention view: per dataset and field, the longest retention of the clauses that release it.

Expectations about the packaged protocols are written from their YAML (police-records-to-csp keeps 24 months,
repeat-victimisation-counts 13), not read from the function under test.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest

from deploy.protocol_files import register_at
from sharing_protocols.decision import EventFacts, ProtocolRegister, Released, decide_for_warehouse
from sharing_protocols.protocol import Protocol, build_protocol
from sharing_protocols.retention_register import FieldKept, retention_register

DAY = date(2026, 12, 2)  # the packaged protocols are in force (valid from 2026-09-01)
SHORT = "repeat-victimisation-counts@1#police-repeat-victim-counts"
LONG = "police-records-to-csp@1#ward-day-records"


def _by_field(kept: tuple[FieldKept, ...], dataset: str) -> dict[str, FieldKept]:
    return {k.field: k for k in kept if k.dataset == dataset}


def test_police_records_fields_from_the_packaged_protocols() -> None:
    police = _by_field(retention_register(register_at([]), DAY), "police-records")
    for name in ("victim_pseudonym", "hour", "period:timestamp"):  # only the 13-month counts clause grants them
        assert str(police[name].retention) == "13 months", name
        assert police[name].keep_until == date(2028, 1, 2)
        assert [str(c) for c in police[name].clauses] == [SHORT]
    for name in ("offence_code", "offence_group", "record_type", "outcome", "location:ward", "period:day"):
        assert str(police[name].retention) == "24 months", name
        assert police[name].keep_until == date(2028, 12, 2)
        assert [str(c) for c in police[name].clauses] == [LONG]
    # Granted by both: the longer clause gives the retention; both are listed as releasing it.
    for name in ("category", "domestic_abuse", "hate_crime", "hate_strand", "alcohol_related", "location:district"):
        assert [str(c) for c in police[name].clauses] == [LONG], name
        assert [str(c) for c in police[name].released_by] == [LONG, SHORT], name
    # Never released, so never kept: the free text and anything finer than a ward.
    for name in ("location_description", "mo_summary", "location:point", "location:lsoa", "location:grid_100m"):
        assert name not in police
    fields = list(police)
    standard = ["category", "location:ward", "location:district", "period:timestamp", "period:day", "period:month"]
    assert fields[:6] == standard
    assert fields[6:] == sorted(fields[6:])


def test_the_view_agrees_with_what_the_warehouse_decision_keeps() -> None:
    """For an event carrying every released field, each part's date equals the sink's per-field retention."""
    register = register_at([])
    event = EventFacts(
        uuid.uuid4(),
        "police-records",
        "sussex-police",
        "violent-crime",
        date(2026, 11, 3),
        date(2026, 11, 3),
        "day",
        areas={"ward": "E05011111", "district": "E07000061"},
        occurred_at=None,
        attributes={name: "x" for name in ("victim_pseudonym", "hour", "offence_code", "outcome", "hate_strand")},
    )
    decision = decide_for_warehouse(event, register, DAY)
    assert isinstance(decision, Released)
    view = _by_field(retention_register(register, DAY), "police-records")
    parts = {k: v for k, v in decision.field_retention.items() if not k.startswith("clause:")}
    assert parts  # the decision holds something to compare
    for part, until in parts.items():
        assert view[part].keep_until == until, part


def _protocol(pid: str, retention: dict[str, int], fields: list[str], **changes: Any) -> Protocol:
    doc: dict[str, Any] = {
        "id": pid,
        "version": 1,
        "title": pid,
        "status": "active",
        "valid_from": date(2026, 1, 1),
        "review_due": date(2027, 9, 30),
        "data_owners": [{"id": "sussex-police", "name": "Sussex Police", "datasets": ["police-records"]}],
        "recipients": [{"id": "csp-a", "name": "CSP A", "kind": "csp"}],
        "purposes": ["Testing"],
        "legal_gateways": [{"ref": "cda-1998-s115"}],
        "datasets": ["police-records"],
        "retention": retention,
        "signatories": [{"role": "SIRO", "organisation": "sussex-police"}],
        "clauses": [
            {
                "id": "c",
                "recipients": ["csp-a"],
                "datasets": ["police-records"],
                "fields": fields,
                "output": "record_level",
                **({"spatial_precision": "lsoa"} if "location" in fields else {}),
                **({"temporal_precision": "month"} if "period" in fields else {}),
            }
        ],
    }
    doc.update(changes)
    return build_protocol(doc, f"{pid}.yaml")


def test_days_and_months_compare_by_the_day_they_keep_until() -> None:
    # 400 days from 2026-12-02 is 2028-01-06, after 13 months (2028-01-02) and before 14 months (2028-02-02).
    register = ProtocolRegister(
        [
            _protocol("by-days", {"days": 400}, ["offence_code", "outcome"]),
            _protocol("by-months", {"months": 13}, ["offence_code"]),
            _protocol("longer", {"months": 14}, ["outcome"]),
        ]
    )
    view = _by_field(retention_register(register, DAY), "police-records")
    assert str(view["offence_code"].retention) == "400 days"
    assert view["offence_code"].keep_until == date(2028, 1, 6)
    assert [c.protocol for c in view["offence_code"].clauses] == ["by-days@1"]
    assert str(view["outcome"].retention) == "14 months"
    assert [c.protocol for c in view["outcome"].clauses] == ["longer@1"]


def test_equal_retentions_list_every_clause_giving_it() -> None:
    register = ProtocolRegister(
        [_protocol("b", {"months": 12}, ["offence_code"]), _protocol("a", {"months": 12}, ["offence_code"])]
    )
    [kept] = retention_register(register, DAY)
    assert [c.protocol for c in kept.clauses] == ["a@1", "b@1"]


def test_a_location_holds_the_levels_it_determines_and_a_period_the_coarser_ones() -> None:
    register = ProtocolRegister([_protocol("p", {"months": 6}, ["location", "period"])])
    assert [k.field for k in retention_register(register, DAY)] == [
        "location:lsoa",
        "location:district",
        "period:month",
    ]


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"status": "suspended"}, "suspended"),
        ({"valid_from": date(2027, 1, 1)}, "not yet valid"),
        ({"review_due": date(2026, 12, 1)}, "review overdue"),
        ({"expires": date(2026, 12, 1), "review_due": date(2026, 11, 30)}, "expired"),
    ],
)
def test_a_protocol_not_in_force_keeps_nothing(changes: dict[str, Any], why: str) -> None:
    register = ProtocolRegister(
        [
            _protocol("live", {"months": 6}, ["offence_code"]),
            _protocol("dead", {"months": 60}, ["offence_code"], **changes),
        ]
    )
    [kept] = retention_register(register, DAY)
    assert str(kept.retention) == "6 months", why
    assert [str(c) for c in kept.released_by] == ["live@1#c"], why


def test_a_superseded_version_with_a_longer_retention_does_not_count() -> None:
    register = ProtocolRegister(
        [
            _protocol("p", {"months": 60}, ["offence_code"]),
            _protocol("p", {"months": 6}, ["offence_code"], version=2),
        ]
    )
    [kept] = retention_register(register, DAY)
    assert str(kept.retention) == "6 months" and [str(c) for c in kept.clauses] == ["p@2#c"]


def test_include_limits_the_view_to_the_protocols_given() -> None:
    register = ProtocolRegister(
        [_protocol("mine", {"months": 6}, ["offence_code"]), _protocol("theirs", {"months": 60}, ["offence_code"])]
    )
    [kept] = retention_register(register, DAY, include=lambda p: p.id == "mine")
    assert str(kept.retention) == "6 months" and [str(c) for c in kept.released_by] == ["mine@1#c"]
    assert retention_register(register, DAY, include=lambda p: False) == ()
