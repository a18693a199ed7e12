"""council-asb: row validation, the envelope (no identifiers), deleted cases withdrawn, linkage with police."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from producers.feed import SourceContext
from producers.feed_registry import get_feed
from producers.feeds.council_asb import CouncilAsbRow
from producers.generators.council_asb import GENERATOR
from producers.generators.police_records import GENERATOR as POLICE_GENERATOR
from sharing_protocols.envelope import EventEnvelope, PostcodeLocation
from tests.support.feeds import generated, options, publish, write
from tests.support.people_feeds import assert_no_identifiers
from tests.unit.producers.feeds.test_police_records import ROW as POLICE_ROW

FEED = get_feed("council-asb")
ROW = {
    "Case Reference": "ASB/2024/00123",
    "Reported Date Time": "14/06/2024 21:15",
    "NSIR Category": "personal",
    "Incident Type": "Rowdy and / or Nuisance Behaviour: Neighbours",
    "Easting": "",
    "Northing": "",
    "Postcode": "BN22 8JW",
    "Victim Surname": "Testcase",
    "Victim Forename": "Ysolde",
    "Victim DOB": "03/02/1990",
    "Risk Tier": "High",
    "Description": "neighbour Zephyr Fakename shouting abuse at the door, she is on 07700 900123",
    "Case Status": "Open",
}


def _envelope(row: dict[str, str]) -> EventEnvelope:
    context = SourceContext(FEED.name, FEED.default_partner, "k", options(FEED).pseudonymise)
    return FEED.to_envelope(CouncilAsbRow.model_validate(row), context)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"Case Reference": ""}, "Case Reference"),
        ({"Reported Date Time": "yesterday"}, "Reported Date Time"),
        ({"NSIR Category": "Criminal"}, "NSIR Category"),
        ({"Risk Tier": "extreme"}, "Risk Tier"),
        ({"Case Status": "Archived"}, "Case Status"),
        ({"Postcode": "not a postcode"}, "Postcode"),
        ({"Victim DOB": "1990"}, "Victim DOB"),
    ],
)
def test_bad_fields_are_named(change: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        CouncilAsbRow.model_validate({**ROW, **change})
    assert info.value.errors()[0]["loc"][0] == field


def test_the_envelope_carries_the_case_and_no_identifier() -> None:
    envelope = _envelope(ROW)
    assert envelope.category == "asb-personal" and envelope.occurred.precision == "day"
    assert envelope.location == PostcodeLocation(postcode="BN22 8JW")
    attributes = envelope.attributes
    assert attributes["incident_type"] == "rowdy-and-or-nuisance-behaviour-neighbours"
    assert attributes["incident_type_text"] is None
    assert (attributes["risk_tier"], attributes["case_status"], attributes["hour"]) == ("high", "open", 21)
    assert attributes["victim_age_band"] == "25-34"
    payload = envelope.to_bytes().decode()
    for identifier in ("Testcase", "Ysolde", "Zephyr", "Fakename", "1990", "900123"):
        assert identifier not in payload


def test_a_free_text_incident_type_is_scrubbed() -> None:
    attributes = _envelope({**ROW, "Incident Type": "threats from Zephyr Fakename"}).attributes
    assert attributes["incident_type"] is None
    assert attributes["incident_type_text"] == "threats from [redacted]"


def test_a_victim_links_to_the_same_person_in_police_records() -> None:
    police = get_feed("police-records")
    context = SourceContext(police.name, police.default_partner, "k", options(police).pseudonymise)
    police_event = police.to_envelope(police.row_model.model_validate(POLICE_ROW), context)
    assert _envelope(ROW).attributes["victim_pseudonym"] == police_event.attributes["victim_pseudonym"]


def test_the_generator_is_seeded_publishes_without_rejections_and_shares_victims_with_police(tmp_path: Path) -> None:
    records = generated(GENERATOR, rows=500)
    assert records == generated(GENERATOR, rows=500)
    events, summary = publish(FEED, write(GENERATOR, tmp_path / "asb.csv", records))
    assert summary.rejected == 0, [str(e) for e in summary.errors[:5]]
    assert summary.retracted == sum(r["Case Status"] == "Deleted" for r in records) > 0
    assert summary.published == len(records) - summary.retracted
    assert_no_identifiers(events, records, "Victim")
    assert {e.category for e in events} == {"asb-personal", "asb-nuisance", "asb-environmental"}
    police = get_feed("police-records")
    police_events, _ = publish(police, write(POLICE_GENERATOR, tmp_path / "p.csv", generated(POLICE_GENERATOR, 500)))
    shared = {e.attributes["victim_pseudonym"] for e in events} & {
        e.attributes["victim_pseudonym"] for e in police_events
    }
    assert len(shared - {None}) >= 5
