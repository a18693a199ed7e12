"""What the register lets flow from one partner's feeds: only its own datasets, the version in force, to whom."""

from __future__ import annotations

from datetime import date
from typing import Any

from sharing_protocols.decision import ProtocolRegister
from sharing_protocols.partner_flows import PartnerFeed, partner_feeds, partner_flows
from sharing_protocols.protocol import Protocol, build_protocol

TODAY = date(2026, 12, 3)
OWNERS = [
    {"id": "sussex-police", "name": "Sussex Police", "datasets": ["police-uk-street"]},
    {"id": "eastbourne-council", "name": "Eastbourne Borough Council", "datasets": ["council-asb"]},
]
RECIPIENTS = [
    {"id": "eastbourne-csp", "name": "Eastbourne CSP", "kind": "csp"},
    {"id": "hastings-csp", "name": "Hastings CSP", "kind": "csp"},
    {"id": "public", "name": "The public", "kind": "public"},
]
RECORDS = {
    "id": "ward-records",
    "recipients": ["eastbourne-csp", "hastings-csp"],
    "datasets": ["police-uk-street"],
    "fields": ["category", "period", "location"],
    "spatial_precision": "ward",
    "temporal_precision": "month",
    "output": "record_level",
}
PUBLIC = {
    "id": "public-counts",
    "recipients": ["public"],
    "datasets": ["police-uk-street"],
    "fields": ["category", "period", "location"],
    "spatial_precision": "lsoa",
    "temporal_precision": "month",
    "output": "aggregates_only",
    "disclosure": {"min_cell_count": 10, "round_to": 5},
}
ASB = {
    "id": "asb-records",
    "recipients": ["eastbourne-csp"],
    "datasets": ["council-asb"],
    "fields": ["category", "period"],
    "temporal_precision": "day",
    "output": "record_level",
}


def _protocol(version: int, status: str, clauses: list[dict[str, Any]], **changes: Any) -> Protocol:
    doc: dict[str, Any] = {
        "id": "csp-sharing",
        "version": version,
        "title": f"CSP sharing v{version}",
        "status": status,
        "valid_from": date(2026, 1, 1),
        "review_due": date(2027, 9, 30),
        "data_owners": OWNERS,
        "recipients": RECIPIENTS,
        "purposes": ["Testing"],
        "legal_gateways": [{"ref": "cda-1998-s115"}],
        "datasets": ["police-uk-street", "council-asb"],
        "retention": {"months": 13},
        "signatories": [{"role": "Data Protection Officer", "organisation": "sussex-police"}],
        "clauses": clauses,
    } | changes
    return build_protocol(doc, "csp-sharing.yaml")


IN_FORCE = _protocol(1, "active", [RECORDS, PUBLIC, ASB])
DRAFT = _protocol(2, "draft", [RECORDS | {"recipients": ["eastbourne-csp"]}, ASB])
REGISTER = ProtocolRegister([IN_FORCE, DRAFT])


def test_a_partner_gets_one_flow_per_recipient_of_each_clause_over_its_datasets() -> None:
    flows = partner_flows(REGISTER, "sussex-police", TODAY)
    assert [(f.clause, f.recipient) for f in flows] == [
        ("public-counts", "public"),
        ("ward-records", "eastbourne-csp"),
        ("ward-records", "hastings-csp"),
    ]


def test_the_flows_are_those_of_the_version_in_force_not_a_later_draft() -> None:
    flows = partner_flows(REGISTER, "sussex-police", TODAY)
    assert {(f.protocol, f.in_force, f.not_in_force_reason) for f in flows} == {("csp-sharing@1", True, None)}


def test_a_partner_never_gets_another_partners_datasets() -> None:
    assert {f.dataset for f in partner_flows(REGISTER, "sussex-police", TODAY)} == {"police-uk-street"}
    assert [(f.dataset, f.clause) for f in partner_flows(REGISTER, "eastbourne-council", TODAY)] == [
        ("council-asb", "asb-records")
    ]


def test_an_organisation_that_owns_nothing_has_no_flows() -> None:
    assert partner_flows(REGISTER, "eastbourne-csp", TODAY) == ()


def test_a_flow_says_what_goes_at_which_precision_and_output_under_which_rule() -> None:
    public = next(f for f in partner_flows(REGISTER, "sussex-police", TODAY) if f.recipient == "public")
    assert (public.fields, public.spatial_precision, public.temporal_precision, public.output) == (
        ("category", "period", "location"),
        "lsoa",
        "month",
        "aggregates_only",
    )
    assert (public.recipient_name, public.recipient_kind, public.retention) == ("The public", "public", "13 months")
    assert public.disclosure == "1-9 suppressed, rounded to 5"
    assert public.legal_gateways == ("cda-1998-s115",)


def test_before_any_version_is_in_force_the_latest_is_shown_with_the_reason() -> None:
    flows = partner_flows(REGISTER, "sussex-police", date(2025, 6, 1))
    assert {(f.protocol, f.in_force, f.not_in_force_reason) for f in flows} == {
        ("csp-sharing@2", False, "status is draft")
    }
    assert [f.recipient for f in flows] == ["eastbourne-csp"]


def test_flows_can_be_asked_for_one_dataset() -> None:
    assert partner_flows(REGISTER, "eastbourne-council", TODAY, "police-uk-street") == ()
    assert len(partner_flows(REGISTER, "sussex-police", TODAY, "police-uk-street")) == 3


def test_a_partners_feeds_are_its_datasets_on_its_own_topics() -> None:
    assert partner_feeds(REGISTER, "sussex-police", TODAY, "hub") == (
        PartnerFeed("police-uk-street", "hub.events.police-uk-street.sussex-police", ("csp-sharing@1",)),
    )
    assert partner_feeds(REGISTER, "eastbourne-csp", TODAY, "hub") == ()
