"""The decision engine: recipient decisions, the warehouse decision, the register, and properties
that hold for random events and random protocols."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from producers.feed import SourceContext
from producers.feed_registry import get_feed
from producers.feeds.police_uk_street import PoliceUkStreetRow
from producers.publish import unlinked
from sharing_protocols.decision import (
    ClauseRef,
    EventFacts,
    ProtocolRegister,
    Released,
    Withheld,
    decide,
    decide_for_warehouse,
)
from sharing_protocols.precision import SPATIAL_PRECISIONS, TEMPORAL_PRECISIONS, Place
from sharing_protocols.protocol import Clause, Protocol, ProtocolError, build_protocol

TODAY = date(2026, 11, 22)
AREAS = {"lsoa": "E01020999", "ward": "E05011870", "district": "E07000061"}
ATTRIBUTES = {
    "crime_id": "a" * 64,
    "reported_by": "Sussex Police",
    "falls_within": "Sussex Police",
    "location_description": "On or near Grove Road",
    "lsoa_code": "E01020999",
    "last_outcome_category": None,
}


def _event(**changes: Any) -> EventFacts:
    values: dict[str, Any] = {
        "event_id": uuid.UUID(int=1),
        "dataset": "police-uk-street",
        "partner": "sussex-police",
        "category": "burglary",
        "period_start": date(2019, 1, 1),
        "period_end": date(2019, 1, 31),
        "period_precision": "month",
        "x": 561_234.5,
        "y": 98_765.4,
        "areas": AREAS,
        "postcode": "BN21 4UH",
        "attributes": ATTRIBUTES,
    }
    return EventFacts(**(values | changes))


def _clause(clause_id: str, recipients: Sequence[str], **changes: Any) -> dict[str, Any]:
    clause: dict[str, Any] = {
        "id": clause_id,
        "recipients": list(recipients),
        "datasets": ["police-uk-street"],
        "fields": ["category", "period", "location", "last_outcome_category"],
        "spatial_precision": "ward",
        "temporal_precision": "month",
        "output": "record_level",
    }
    clause.update(changes)
    if clause["output"] == "aggregates_only":
        clause.setdefault("disclosure", {"min_cell_count": 8, "round_to": 5})
    return clause


def _protocol(protocol_id: str, clauses: list[dict[str, Any]], **changes: Any) -> Protocol:
    recipients = sorted({r for clause in clauses for r in clause["recipients"]})
    doc: dict[str, Any] = {
        "id": protocol_id,
        "version": 1,
        "title": f"Test protocol {protocol_id}",
        "status": "active",
        "valid_from": date(2026, 1, 1),
        "review_due": date(2027, 9, 30),
        "expires": date(2029, 3, 31),
        "data_owners": [{"id": "sussex-police", "name": "Sussex Police", "datasets": ["police-uk-street"]}],
        "recipients": [{"id": r, "name": r, "kind": "public" if r == "public" else "csp"} for r in recipients],
        "purposes": ["Testing"],
        "legal_gateways": [{"ref": "cda-1998-s115"}],
        "datasets": ["police-uk-street"],
        "retention": {"months": 24},
        "signatories": [{"role": "Senior Information Risk Owner", "organisation": "sussex-police"}],
        "clauses": clauses,
    }
    doc.update(changes)
    return build_protocol(doc, f"{protocol_id}.yaml")


WARD_RECORDS = _protocol("police-to-csp", [_clause("ward-records", ["eastbourne-csp", "essex-csp"])])


# EventFacts


def test_facts_from_a_police_uk_envelope() -> None:
    feed = get_feed("police-uk-street")
    row = PoliceUkStreetRow.model_validate(
        {
            "Crime ID": "b" * 64,
            "Month": "2019-01",
            "Reported by": "Sussex Police",
            "Falls within": "Sussex Police",
            "Longitude": "0.28",
            "Latitude": "50.77",
            "Location": "On or near Grove Road",
            "LSOA code": "E01020999",
            "LSOA name": "Eastbourne 001A",
            "Crime type": "Burglary",
        }
    )
    envelope = feed.to_envelope(row, SourceContext(feed.name, "sussex-police", "b" * 64, unlinked))
    facts = EventFacts.from_envelope(envelope, 561_000.0, 99_000.0, {"ward": "E05011870", "lsoa": "E01020999"})
    assert (facts.event_id, facts.dataset, facts.partner, facts.category) == (
        envelope.event_id,
        "police-uk-street",
        "sussex-police",
        "burglary",
    )
    assert (facts.period_start, facts.period_end, facts.period_precision) == (
        date(2019, 1, 1),
        date(2019, 1, 31),
        "month",
    )
    assert (facts.x, facts.y, facts.postcode) == (561_000.0, 99_000.0, None)
    assert dict(facts.areas) == {"ward": "E05011870", "lsoa": "E01020999"}
    assert dict(facts.attributes) == dict(envelope.attributes)
    assert set(facts.field_names) == {"category", "period", "location"} | set(feed.spec.attributes)


def test_facts_treat_nan_and_missing_codes_as_absent() -> None:
    envelope_event = _event()
    nan = EventFacts(**{**_as_kwargs(envelope_event), "x": None, "y": None, "areas": {}, "postcode": None})
    assert not nan.has_location and "location" not in nan.field_names
    feed = get_feed("police-uk-street")
    row = PoliceUkStreetRow.model_validate(
        {"Month": "2019-02", "Reported by": "Essex Police", "Falls within": "Essex Police", "Crime type": "Drugs"}
    )
    facts = EventFacts.from_envelope(
        feed.to_envelope(row, SourceContext(feed.name, "essex-police", "k", unlinked)),
        math.nan,
        math.nan,
        {"ward": None},
    )
    assert (facts.x, facts.y, dict(facts.areas)) == (None, None, {})


def _as_kwargs(event: EventFacts) -> dict[str, Any]:
    return {name: getattr(event, name) for name in EventFacts.__dataclass_fields__}


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"x": 1.0, "y": None}, "both x and y"),
        ({"areas": {"msoa": "E02000001"}}, "unknown area level"),
        ({"occurred_at": datetime(2019, 2, 1, 12, 0)}, "outside the occurrence period"),
    ],
)
def test_facts_refuse_inconsistent_input(changes: dict[str, Any], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        _event(**changes)


# Coarsening


# Recipient decisions


def test_a_matching_clause_releases_only_its_fields_at_its_precision() -> None:
    decision = decide(_event(), "eastbourne-csp", ProtocolRegister([WARD_RECORDS]), TODAY)
    assert isinstance(decision, Released)
    assert decision.fields == ("category", "period", "location", "last_outcome_category")
    assert (decision.category, decision.period, decision.temporal_precision) == ("burglary", "2019-01", "month")
    assert decision.places == (Place("ward", code="E05011870"),)
    assert decision.spatial_precision == "ward"
    assert dict(decision.attributes) == {"last_outcome_category": None}
    assert decision.fields_dropped == (
        "crime_id",
        "falls_within",
        "location_description",
        "lsoa_code",
        "reported_by",
    )
    assert decision.chosen == ClauseRef("police-to-csp@1", "ward-records")
    assert decision.justifications == (decision.chosen,)
    assert (decision.output, decision.disclosure, decision.linkage_allowed) == ("record_level", None, False)
    assert decision.retain_until == date(2028, 11, 22)
    assert decision.recipient == "eastbourne-csp" and decision.notes == ()


@pytest.mark.parametrize(
    ("event", "recipient", "reason"),
    [
        (
            _event(),
            "brighton-csp",
            "no protocol grants brighton-csp dataset police-uk-street from partner sussex-police",
        ),
        (
            _event(partner="essex-police"),
            "eastbourne-csp",
            "no protocol grants eastbourne-csp dataset police-uk-street from partner essex-police",
        ),
        (
            _event(dataset="istv-ae"),
            "eastbourne-csp",
            "no protocol grants eastbourne-csp dataset istv-ae from partner sussex-police",
        ),
    ],
)
def test_default_deny(event: EventFacts, recipient: str, reason: str) -> None:
    decision = decide(event, recipient, ProtocolRegister([WARD_RECORDS]), TODAY)
    assert isinstance(decision, Withheld)
    assert (decision.code, decision.reason, decision.released, decision.recipient) == (
        "no_grant",
        reason,
        False,
        recipient,
    )
    assert decide(event, recipient, ProtocolRegister([]), TODAY).released is False


@pytest.mark.parametrize(
    ("changes", "on", "reason"),
    [
        ({"status": "suspended"}, TODAY, "police-to-csp@1: status is suspended"),
        ({"status": "draft"}, TODAY, "police-to-csp@1: status is draft"),
        ({"status": "expired"}, TODAY, "police-to-csp@1: status is expired"),
        ({}, date(2025, 12, 31), "police-to-csp@1: not valid until 2026-01-01"),
        ({}, date(2027, 10, 1), "police-to-csp@1: review overdue since 2027-09-30"),
        ({"review_due": date(2030, 1, 1)}, date(2029, 4, 1), "police-to-csp@1: expired on 2029-03-31"),
    ],
)
def test_a_protocol_not_in_force_releases_nothing(changes: dict[str, Any], on: date, reason: str) -> None:
    protocol = _protocol("police-to-csp", [_clause("ward-records", ["eastbourne-csp"])], **changes)
    register = ProtocolRegister([protocol])
    for decision in (decide(_event(), "eastbourne-csp", register, on), decide_for_warehouse(_event(), register, on)):
        assert isinstance(decision, Withheld)
        assert decision.code == "not_in_force"
        assert decision.reason == f"no protocol granting this is in force: {reason}"


def test_a_datetime_is_taken_as_its_day() -> None:
    register = ProtocolRegister([WARD_RECORDS])
    assert decide(_event(), "eastbourne-csp", register, datetime(2027, 9, 30, 23, 59)).released
    assert not decide(_event(), "eastbourne-csp", register, datetime(2027, 10, 1, 0, 0)).released


def test_a_category_filter_withholds_other_categories() -> None:
    protocol = _protocol("violence", [_clause("violence-only", ["eastbourne-csp"], categories=["violent-crime"])])
    register = ProtocolRegister([protocol])
    decision = decide(_event(), "eastbourne-csp", register, TODAY)
    assert isinstance(decision, Withheld) and decision.code == "category_not_covered"
    assert decision.reason == "the event's category is outside the category filters of violence@1#violence-only"
    assert decide(_event(category="violent-crime"), "eastbourne-csp", register, TODAY).released


def test_the_finest_matching_clause_is_chosen_and_the_others_are_cited() -> None:
    coarse = _protocol("a-district", [_clause("district", ["eastbourne-csp"], spatial_precision="district")])
    fine = _protocol("z-grid", [_clause("grid", ["eastbourne-csp"], spatial_precision="grid_100m")])
    decision = decide(_event(), "eastbourne-csp", ProtocolRegister([coarse, fine]), TODAY)
    assert isinstance(decision, Released)
    assert decision.chosen == ClauseRef("z-grid@1", "grid")
    assert decision.justifications == (ClauseRef("z-grid@1", "grid"), ClauseRef("a-district@1", "district"))
    assert decision.places == (Place("grid_100m", x=561_200.0, y=98_700.0),)


def test_equal_precision_is_decided_by_protocol_id_then_clause_id() -> None:
    b = _protocol("b", [_clause("a", ["essex-csp"]), _clause("b", ["eastbourne-csp"])])
    a = _protocol(
        "a",
        [_clause("z", ["eastbourne-csp"], fields=["category", "period", "location"]), _clause("y", ["essex-csp"])],
    )
    register = ProtocolRegister([b, a])
    decision = decide(_event(), "eastbourne-csp", register, TODAY)
    assert isinstance(decision, Released) and decision.chosen == ClauseRef("a@1", "z")
    assert "last_outcome_category" not in decision.fields  # the chosen clause's fields, not a union
    decision = decide(_event(), "essex-csp", register, TODAY)
    assert isinstance(decision, Released) and decision.chosen == ClauseRef("a@1", "y")
    assert decision.justifications == (ClauseRef("a@1", "y"), ClauseRef("b@1", "a"))


def test_time_then_record_level_break_equal_spatial_precision() -> None:
    daily = _protocol("b-daily", [_clause("day", ["essex-csp"], temporal_precision="day", output="aggregates_only")])
    monthly = _protocol("a-monthly", [_clause("month", ["essex-csp"], output="record_level")])
    event = _event(period_start=date(2019, 1, 9), period_end=date(2019, 1, 9), period_precision="day")
    decision = decide(event, "essex-csp", ProtocolRegister([daily, monthly]), TODAY)
    assert isinstance(decision, Released) and decision.chosen == ClauseRef("b-daily@1", "day")
    assert (decision.period, decision.output) == ("2019-01-09", "aggregates_only")
    assert decision.disclosure is not None and decision.disclosure.min_cell_count == 8
    record = _protocol("c-record", [_clause("record", ["essex-csp"], temporal_precision="day")])
    decision = decide(event, "essex-csp", ProtocolRegister([daily, monthly, record]), TODAY)
    assert isinstance(decision, Released) and decision.chosen == ClauseRef("c-record@1", "record")


def test_a_precision_the_event_cannot_supply_drops_location_but_releases_the_rest() -> None:
    sector = _protocol("sector", [_clause("by-sector", ["eastbourne-csp"], spatial_precision="postcode_sector")])
    decision = decide(_event(postcode=None), "eastbourne-csp", ProtocolRegister([sector]), TODAY)
    assert isinstance(decision, Released)
    assert decision.places == () and decision.location is None and decision.spatial_precision is None
    assert decision.fields == ("category", "period", "last_outcome_category")
    assert "location" in decision.fields_dropped
    assert decision.notes == ("location dropped: the event has no postcode_sector to release",)
    with_postcode = decide(_event(), "eastbourne-csp", ProtocolRegister([sector]), TODAY)
    assert isinstance(with_postcode, Released) and with_postcode.places == (Place("postcode_sector", code="BN21 4"),)


def test_a_clause_that_can_supply_location_beats_a_finer_one_that_cannot() -> None:
    sector = _protocol("a-sector", [_clause("by-sector", ["eastbourne-csp"], spatial_precision="postcode_sector")])
    district = _protocol("b-district", [_clause("by-district", ["eastbourne-csp"], spatial_precision="district")])
    decision = decide(_event(postcode=None), "eastbourne-csp", ProtocolRegister([sector, district]), TODAY)
    assert isinstance(decision, Released) and decision.chosen == ClauseRef("b-district@1", "by-district")
    assert decision.places == (Place("district", code="E07000061"),)


def test_an_event_without_location_is_released_without_it_and_without_a_note() -> None:
    event = _event(x=None, y=None, areas={}, postcode=None)
    decision = decide(event, "eastbourne-csp", ProtocolRegister([WARD_RECORDS]), TODAY)
    assert isinstance(decision, Released) and decision.places == () and decision.notes == ()
    assert "location" not in decision.fields_dropped


def test_only_the_highest_version_in_force_applies() -> None:
    v1 = WARD_RECORDS
    v2 = _protocol(
        "police-to-csp",
        [_clause("ward-records", ["essex-csp"], spatial_precision="district")],
        version=2,
        valid_from=date(2026, 12, 1),
    )
    register = ProtocolRegister([v2, v1])
    before = decide(_event(), "eastbourne-csp", register, TODAY)
    assert isinstance(before, Released) and before.chosen == ClauseRef("police-to-csp@1", "ward-records")
    after = decide(_event(), "eastbourne-csp", register, date(2026, 12, 1))
    assert isinstance(after, Withheld)
    assert after.reason == "no protocol granting this is in force: police-to-csp@1: superseded by police-to-csp@2"
    essex = decide(_event(), "essex-csp", register, date(2026, 12, 1))
    assert isinstance(essex, Released) and essex.places == (Place("district", code="E07000061"),)


def test_pseudonym_linkage_is_reported_for_the_recipient() -> None:
    protocol = _protocol(
        "marac",
        [
            _clause(
                "repeats",
                ["east-sussex-csp"],
                fields=["category", "crime_pseudonym"],
                spatial_precision=None,
                temporal_precision=None,
                output="aggregates_only",
                pseudonym_linkage=True,
            )
        ],
    )
    event = _event(attributes={"crime_pseudonym": "p-123", "risk_level": "high"})
    decision = decide(event, "east-sussex-csp", ProtocolRegister([protocol]), TODAY)
    assert isinstance(decision, Released) and decision.linkage_allowed
    assert dict(decision.attributes) == {"crime_pseudonym": "p-123"}
    assert decision.fields_dropped == ("location", "period", "risk_level")


def test_audit_records_carry_grounds_not_contents() -> None:
    register = ProtocolRegister([WARD_RECORDS])
    released = decide(_event(), "eastbourne-csp", register, TODAY).audit_record()
    withheld = decide(_event(), "brighton-csp", register, TODAY).audit_record()
    assert released["protocol"] == "police-to-csp@1" and released["clause"] == "ward-records"
    assert released["outcome"] == "released" and withheld["outcome"] == "withheld" and withheld["code"] == "no_grant"
    text = repr(released) + repr(withheld)
    for value in ("On or near", "E05011870", "561234", "a" * 64, "burglary"):
        assert value not in text


# The warehouse


def test_the_warehouse_takes_the_union_of_every_clause_in_force() -> None:
    public = _protocol(
        "public",
        [
            _clause(
                "lsoa-counts",
                ["public"],
                fields=["category", "period", "location", "location_description"],
                spatial_precision="lsoa",
                output="aggregates_only",
            )
        ],
        retention={"months": 36},
    )
    analysts = WARD_RECORDS
    daily = _protocol(
        "daily",
        [_clause("daily", ["essex-csp"], fields=["period"], spatial_precision=None, temporal_precision="day")],
    )
    suspended = _protocol(
        "suspended", [_clause("points", ["essex-csp"], spatial_precision="point")], status="suspended"
    )
    event = _event(period_start=date(2019, 1, 9), period_end=date(2019, 1, 9), period_precision="day")
    decision = decide_for_warehouse(event, ProtocolRegister([public, analysts, daily, suspended]), TODAY)
    assert isinstance(decision, Released)
    assert decision.recipient is None and decision.chosen is None
    assert decision.places == (Place("lsoa", code="E01020999"), Place("ward", code="E05011870"))
    assert (decision.period, decision.temporal_precision) == ("2019-01-09", "day")
    assert decision.fields == ("category", "period", "location", "last_outcome_category", "location_description")
    assert decision.justifications == (
        ClauseRef("daily@1", "daily"),
        ClauseRef("police-to-csp@1", "ward-records"),
        ClauseRef("public@1", "lsoa-counts"),
    )
    assert decision.output == "record_level"
    assert decision.retain_until == date(2029, 11, 22)  # the longest retention: 36 months
    assert set(decision.fields_dropped) == {"crime_id", "falls_within", "lsoa_code", "reported_by"}


def test_the_warehouse_withholds_what_no_clause_covers() -> None:
    decision = decide_for_warehouse(_event(partner="kent-police"), ProtocolRegister([WARD_RECORDS]), TODAY)
    assert isinstance(decision, Withheld) and decision.code == "no_grant" and decision.recipient is None
    assert decision.reason == "no protocol grants the warehouse dataset police-uk-street from partner kent-police"


# The register


def test_register_lookups() -> None:
    v1 = WARD_RECORDS
    v2 = _protocol("police-to-csp", [_clause("ward-records", ["essex-csp"])], version=2, status="draft")
    public = _protocol(
        "public", [_clause("counts", ["public"], output="aggregates_only")], review_due=date(2027, 1, 15)
    )
    old = _protocol("old", [_clause("c", ["essex-csp"])], status="suspended", review_due=date(2026, 11, 1))
    gone = _protocol("gone", [_clause("c", ["essex-csp"])], status="expired", review_due=date(2026, 1, 1))
    register = ProtocolRegister([public, v2, old, v1, gone])
    assert [p.label for p in register] == ["gone@1", "old@1", "police-to-csp@1", "police-to-csp@2", "public@1"]
    assert register.get("police-to-csp").label == "police-to-csp@2"
    assert register.get("police-to-csp", 1) is v1
    with pytest.raises(KeyError):
        register.get("police-to-csp", 3)
    assert [p.label for p in register.active_at(TODAY)] == ["police-to-csp@1", "public@1"]
    assert [g.ref for g in register.clauses_for("essex-csp", TODAY)] == [ClauseRef("police-to-csp@1", "ward-records")]
    assert register.clauses_for("essex-csp", TODAY, dataset="istv-ae") == ()
    assert [p.label for p in register.due_for_review(TODAY, 30)] == ["old@1"]
    assert [p.label for p in register.due_for_review(TODAY, 60)] == ["old@1", "public@1"]
    assert [p.label for p in register.due_for_review(TODAY, 365)] == ["old@1", "public@1", "police-to-csp@1"]


def test_register_lists_protocols_due_for_review_or_expiring_sooner_date_first() -> None:
    clause = [_clause("c", ["essex-csp"])]
    expiring = _protocol("expiring", clause, review_due=date(2027, 6, 1), expires=date(2027, 1, 10))
    reviewed = _protocol("reviewed", clause, review_due=date(2026, 12, 20))
    later = _protocol("later", clause, review_due=date(2027, 6, 1), expires=date(2027, 6, 1))
    lapsed = _protocol("lapsed", clause, status="expired", review_due=date(2026, 1, 1), expires=date(2026, 2, 1))
    draft_v2 = _protocol("expiring", clause, version=2, status="draft", expires=date(2026, 12, 1))
    register = ProtocolRegister([later, expiring, reviewed, lapsed, draft_v2])
    assert [p.label for p in register.needing_attention(TODAY, 60)] == ["reviewed@1", "expiring@1"]
    assert [p.label for p in register.needing_attention(TODAY, 20)] == []
    assert [p.label for p in register.needing_attention(TODAY, 365)] == ["reviewed@1", "expiring@1", "later@1"]


def test_register_refuses_duplicates_and_inconsistent_protocols() -> None:
    with pytest.raises(ValueError, match="police-to-csp@1 is given twice"):
        ProtocolRegister([WARD_RECORDS, WARD_RECORDS])
    broken = WARD_RECORDS.model_copy(update={"expires": date(2025, 1, 1)})  # bypasses validation on purpose
    with pytest.raises(ProtocolError, match="police-to-csp@1: expires: is before valid_from"):
        ProtocolRegister([broken])


# Properties, for random events and random registers

RECIPIENTS = ("r-one", "r-two", "r-three")
DATASETS = ("ds-a", "ds-b")
PARTNERS = ("p-one", "p-two")
CATEGORIES = ("c-one", "c-two", "c-three")
ATTRIBUTE_NAMES = ("a_one", "a_two", "b_pseudonym")
POSTCODES = {"BN21 4UH": "BN21 4", "CM2 0PP": "CM2 0", "BN21": None}
LEVEL_CODES = {"lsoa": "E01000001", "ward": "E05000001", "district": "E07000001"}


@st.composite
def clauses(draw: st.DrawFn, clause_id: str) -> dict[str, Any]:
    fields = draw(
        st.lists(st.sampled_from(("category", "period", "location", *ATTRIBUTE_NAMES)), min_size=1, unique=True)
    )
    output = draw(st.sampled_from(("record_level", "aggregates_only")))
    categories = draw(st.none() | st.lists(st.sampled_from(CATEGORIES), min_size=1, unique=True))
    return {
        "id": clause_id,
        "recipients": draw(st.lists(st.sampled_from(RECIPIENTS), min_size=1, unique=True)),
        "datasets": draw(st.lists(st.sampled_from(DATASETS), min_size=1, unique=True)),
        "fields": fields,
        "spatial_precision": draw(st.sampled_from(SPATIAL_PRECISIONS)) if "location" in fields else None,
        "temporal_precision": draw(st.sampled_from(TEMPORAL_PRECISIONS)) if "period" in fields else None,
        "output": output,
        "disclosure": {"min_cell_count": 8, "round_to": 5} if output == "aggregates_only" else None,
        "pseudonym_linkage": "b_pseudonym" in fields or draw(st.booleans()),
        "categories": categories,
    }


def _overlaps(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if not set(a["recipients"]) & set(b["recipients"]) or not set(a["datasets"]) & set(b["datasets"]):
        return False
    return a["categories"] is None or b["categories"] is None or bool(set(a["categories"]) & set(b["categories"]))


@st.composite
def protocols(draw: st.DrawFn) -> Protocol:
    drawn = [draw(clauses(f"c{i}")) for i in range(draw(st.integers(1, 3)))]
    kept: list[dict[str, Any]] = []
    for clause in drawn:
        if not any(_overlaps(clause, other) for other in kept):
            kept.append(clause)
    valid_from = date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 300)))
    owners = draw(st.lists(st.sampled_from(PARTNERS), min_size=1, unique=True))
    provided = [draw(st.lists(st.sampled_from(DATASETS), min_size=1, unique=True)) for _ in owners]
    granted = {dataset for clause in kept for dataset in clause["datasets"]}
    provided[0] += sorted(granted - {dataset for datasets in provided for dataset in datasets})
    return build_protocol(
        {
            "id": draw(st.sampled_from(("pa", "pb", "pc"))),
            "version": draw(st.integers(1, 2)),
            "title": "Random protocol",
            "status": draw(st.sampled_from(("draft", "active", "active", "active", "suspended", "expired"))),
            "valid_from": valid_from,
            "review_due": valid_from + timedelta(days=draw(st.integers(0, 900))),
            "expires": draw(st.none() | st.integers(0, 1000).map(lambda d: valid_from + timedelta(days=d))),
            "data_owners": [{"id": o, "name": o, "datasets": d} for o, d in zip(owners, provided, strict=True)],
            "recipients": [{"id": r, "name": r, "kind": "csp"} for r in RECIPIENTS],
            "purposes": ["Testing"],
            "legal_gateways": [{"ref": "cda-1998-s115"}],
            "datasets": list(DATASETS),
            "retention": {"days": draw(st.integers(1, 1000))},
            "signatories": [{"role": "Data Protection Officer", "organisation": owners[0]}],
            "clauses": kept,
        },
        "random.yaml",
    )


registers = st.lists(protocols(), min_size=1, max_size=5, unique_by=lambda p: p.label).map(ProtocolRegister)
days = st.integers(0, 1500).map(lambda d: date(2026, 1, 1) + timedelta(days=d))


@st.composite
def events(
    draw: st.DrawFn, partners: Sequence[str] = (*PARTNERS, "p-other"), datasets: Sequence[str] = (*DATASETS, "ds-other")
) -> EventFacts:
    start = date(2019, 1, 1) + timedelta(days=draw(st.integers(0, 365)))
    daily = draw(st.booleans())
    located = draw(st.integers(0, 3)) > 0
    return EventFacts(
        event_id=uuid.UUID(int=draw(st.integers(0, 2**64))),
        dataset=draw(st.sampled_from(datasets)),
        partner=draw(st.sampled_from(partners)),
        category=draw(st.sampled_from(CATEGORIES)),
        period_start=start,
        period_end=start if daily else start + timedelta(days=draw(st.integers(0, 40))),
        period_precision="day" if daily else "month",
        x=draw(st.floats(0, 700_000)) if located else None,
        y=draw(st.floats(0, 1_300_000)) if located else None,
        areas={level: LEVEL_CODES[level] for level in draw(st.lists(st.sampled_from(list(LEVEL_CODES)), unique=True))},
        postcode=draw(st.none() | st.sampled_from(list(POSTCODES))),
        attributes={name: draw(st.integers(0, 9)) for name in draw(st.lists(st.sampled_from(ATTRIBUTE_NAMES)))},
    )


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[ProtocolRegister, EventFacts, str, date]:
    """A register, an event, a recipient and a day; mostly aimed at one of the register's clauses, so that
    releases are as common as refusals."""
    register = draw(registers)
    target = draw(st.sampled_from(register.protocols))
    clause = draw(st.sampled_from(target.clauses))
    aimed = draw(st.integers(0, 3)) > 0
    dataset = draw(st.sampled_from(clause.datasets))
    providers = sorted(o.id for o in target.data_owners if dataset in o.datasets)
    event = draw(events(providers, [dataset]) if aimed else events())
    recipient = draw(st.sampled_from(clause.recipients if aimed else RECIPIENTS))
    last = min(target.review_due, target.expires or target.review_due)
    on = target.valid_from + timedelta(days=draw(st.integers(0, (last - target.valid_from).days))) if aimed else None
    if draw(st.booleans()):  # a sibling protocol in force alongside, granting the same recipient the same dataset
        extra = draw(clauses("sibling"))
        extra["recipients"] = sorted({*extra["recipients"], recipient})
        extra["datasets"] = sorted({*extra["datasets"], *clause.datasets})
        first = target.data_owners[0]
        owner = first.model_copy(update={"datasets": tuple(sorted({*first.datasets, *extra["datasets"]}))})
        sibling = target.model_copy(
            update={
                "id": "pz",
                "version": 1,
                "clauses": (Clause.model_validate(extra),),
                "data_owners": (owner, *target.data_owners[1:]),
            }
        )
        register = ProtocolRegister([*register.protocols, sibling])
    return register, event, recipient, on or draw(days)


def _in_force(register: ProtocolRegister, on: date) -> list[Protocol]:
    """Independently: active, within its dates, and the highest such version of its id."""
    live = [
        p
        for p in register
        if p.status == "active" and p.valid_from <= on <= p.review_due and (p.expires is None or on <= p.expires)
    ]
    return [p for p in live if not any(q.id == p.id and q.version > p.version for q in live)]


def _matching(register: ProtocolRegister, event: EventFacts, on: date, recipient: str | None) -> set[ClauseRef]:
    return {
        ClauseRef(p.label, c.id)
        for p in _in_force(register, on)
        if any(o.id == event.partner and event.dataset in o.datasets for o in p.data_owners)
        for c in p.clauses
        if event.dataset in c.datasets
        and (recipient is None or recipient in c.recipients)
        and (c.categories is None or event.category in c.categories)
    }


def _can_supply(event: EventFacts, precision: str) -> bool:
    if precision in ("point", "grid_100m"):
        return event.x is not None
    if precision == "postcode_sector":
        return event.postcode is not None and POSTCODES[event.postcode] is not None
    return precision in event.areas


def _clause_of(register: ProtocolRegister, ref: ClauseRef) -> Any:
    protocol_id, version = ref.protocol.split("@")
    return next(c for c in register.get(protocol_id, int(version)).clauses if c.id == ref.clause)


def _check_place(place: Place, event: EventFacts) -> None:
    if place.precision == "point":
        assert (place.x, place.y, place.code) == (event.x, event.y, None)
    elif place.precision == "grid_100m":
        assert place.x is not None and place.y is not None and event.x is not None and event.y is not None
        assert place.x % 100 == 0 and place.y % 100 == 0 and place.code is None
        assert 0 <= event.x - place.x < 100 and 0 <= event.y - place.y < 100
    elif place.precision == "postcode_sector":
        assert event.postcode is not None and place.code == POSTCODES[event.postcode] and place.x is None
    else:
        assert place.code == event.areas[place.precision] and place.x is None and place.y is None


def _check_period(period: str, precision: str, event: EventFacts) -> None:
    form = {"day": "%Y-%m-%d", "month": "%Y-%m"}[precision]
    for part in period.split("/"):
        datetime.strptime(part, form)  # a format check only
    assert period.split("/")[0] == event.period_start.strftime(form)


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_a_recipient_never_gets_more_than_the_chosen_clause_allows(
    scenario: tuple[ProtocolRegister, EventFacts, str, date],
) -> None:
    register, event, recipient, on = scenario
    decision = decide(event, recipient, register, on)
    matching = _matching(register, event, on, recipient)
    if not matching:
        assert isinstance(decision, Withheld)
        return
    assert isinstance(decision, Released) and decision.chosen is not None
    assert set(decision.justifications) == matching and decision.justifications[0] == decision.chosen
    clause = _clause_of(register, decision.chosen)
    assert set(decision.fields) <= set(clause.fields)
    assert set(decision.attributes) <= set(clause.fields)
    assert all(decision.attributes[name] == event.attributes[name] for name in decision.attributes)
    assert set(decision.fields) <= set(event.field_names)
    assert set(decision.fields_dropped) == set(event.field_names) - set(decision.fields)
    assert decision.category == (event.category if "category" in clause.fields else None)
    assert len(decision.places) <= 1
    for place in decision.places:
        assert "location" in clause.fields and place.precision == clause.spatial_precision
        _check_place(place, event)
    if decision.period is not None:
        assert "period" in clause.fields and decision.temporal_precision is not None
        assert TEMPORAL_PRECISIONS.index(decision.temporal_precision) >= TEMPORAL_PRECISIONS.index(
            clause.temporal_precision
        )
        _check_period(decision.period, decision.temporal_precision, event)
    assert decision.linkage_allowed == clause.pseudonym_linkage
    # The most permissive: no matching clause could have released a finer place.
    finest = min(
        (
            SPATIAL_PRECISIONS.index(c.spatial_precision)
            for c in (_clause_of(register, ref) for ref in matching)
            if c.spatial_precision is not None and _can_supply(event, c.spatial_precision)
        ),
        default=len(SPATIAL_PRECISIONS),
    )
    assert (SPATIAL_PRECISIONS.index(decision.places[0].precision) if decision.places else len(SPATIAL_PRECISIONS)) == (
        finest
    )


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_the_warehouse_never_gets_more_than_the_clauses_in_force_allow(
    scenario: tuple[ProtocolRegister, EventFacts, str, date],
) -> None:
    register, event, _, on = scenario
    decision = decide_for_warehouse(event, register, on)
    matching = _matching(register, event, on, None)
    if not matching:
        assert isinstance(decision, Withheld)
        return
    assert isinstance(decision, Released) and set(decision.justifications) == matching
    allowed = [_clause_of(register, ref) for ref in matching]
    assert set(decision.fields) <= {name for c in allowed for name in c.fields}
    expected_places = {
        c.spatial_precision
        for c in allowed
        if "location" in c.fields and c.spatial_precision and _can_supply(event, c.spatial_precision)
    }
    assert {place.precision for place in decision.places} == expected_places
    assert [SPATIAL_PRECISIONS.index(p.precision) for p in decision.places] == sorted(
        SPATIAL_PRECISIONS.index(p.precision) for p in decision.places
    )
    for place in decision.places:
        _check_place(place, event)
    if decision.temporal_precision is not None:
        finest_allowed = min(TEMPORAL_PRECISIONS.index(c.temporal_precision) for c in allowed if c.temporal_precision)
        assert TEMPORAL_PRECISIONS.index(decision.temporal_precision) >= finest_allowed


@settings(max_examples=100, deadline=None)
@given(scenarios(), st.sampled_from(("suspended", "draft", "expired")))
def test_protocols_not_active_release_nothing(
    scenario: tuple[ProtocolRegister, EventFacts, str, date], status: str
) -> None:
    register, event, recipient, on = scenario
    stopped = ProtocolRegister(p.model_copy(update={"status": status}) for p in register)
    assert isinstance(decide(event, recipient, stopped, on), Withheld)
    assert isinstance(decide_for_warehouse(event, stopped, on), Withheld)
    for protocol in register:
        late = protocol.review_due + timedelta(days=1)
        decision = decide(event, recipient, register, late)
        if isinstance(decision, Released):
            assert all(ref.protocol != protocol.label for ref in decision.justifications)
