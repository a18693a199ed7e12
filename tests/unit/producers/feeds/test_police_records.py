"""police-records: row validation, the envelope (no identifiers), cancelled crimes withdrawn, the generator."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from producers.feed import SourceContext
from producers.feed_registry import get_feed
from producers.feeds.police_records import OFFENCES, PoliceRecordRow
from producers.generators.police_records import GENERATOR
from producers.publish import PublishSummary, outgoing
from sharing_protocols.envelope import BngPoint, EventEnvelope, PostcodeLocation, Retraction
from tests.support.feeds import generated, options, publish, write
from tests.support.people_feeds import assert_no_identifiers

FEED = get_feed("police-records")
ROW = {
    "Record Type": "Crime",
    "Crime Reference": "47240012345",
    "Incident Reference": "0456 of 12/05/2024",
    "Recorded Date": "12/05/2024",
    "Occurred From": "11/05/2024 23:40",
    "Occurred To": "12/05/2024 00:10",
    "Home Office Offence Code": "8N",
    "Police.uk Category": "",
    "Incident Type": "",
    "Domestic Abuse Flag": "Y",
    "Hate Crime Flag": "N",
    "Hate Strand": "",
    "Alcohol Related Flag": "Y",
    "Easting": "",
    "Northing": "",
    "Postcode": "bn21 4uh",
    "Location Description": "On or near Grove Road",
    "Victim Surname": "Testcase",
    "Victim Forename": "Ysolde",
    "Victim DOB": "03/02/1990",
    "Outcome": "Outcome 16: Evidential difficulties: suspect identified; victim does not support further action",
    "Crime Status": "Recorded",
    "MO Summary": "ex partner punched Ysolde Testcase in the face at home, call 07700 900123",
}


def _error_field(change: dict[str, str]) -> str:
    with pytest.raises(ValidationError) as info:
        PoliceRecordRow.model_validate({**ROW, **change})
    return ".".join(str(part) for part in info.value.errors()[0]["loc"]) or str(info.value.errors()[0]["msg"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"Record Type": "Arrest"}, "Record Type"),
        ({"Crime Reference": "SX/123"}, "Crime Reference"),
        ({"Recorded Date": "2024-13-01"}, "Recorded Date"),
        ({"Occurred From": "11/05/2024"}, "Occurred From"),
        ({"Home Office Offence Code": "999Z"}, "Home Office Offence Code"),
        ({"Police.uk Category": "Jaywalking"}, "Police.uk Category"),
        ({"Domestic Abuse Flag": "maybe"}, "Domestic Abuse Flag"),
        ({"Hate Crime Flag": "Y", "Hate Strand": "age"}, "Hate Strand"),
        ({"Easting": "east", "Northing": "100000"}, "Easting"),
        ({"Postcode": "BN21"}, "Postcode"),
        ({"Victim DOB": "31/02/1990"}, "Victim DOB"),
        ({"Crime Status": "Pending"}, "Crime Status"),
    ],
)
def test_bad_fields_are_named(change: dict[str, str], field: str) -> None:
    assert _error_field(change) == field


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"Crime Reference": ""}, "Crime Reference is required"),
        ({"Home Office Offence Code": ""}, "Home Office Offence Code is required"),
        ({"Record Type": "Incident", "Incident Type": ""}, "Incident Type is required"),
        ({"Occurred To": "10/05/2024 10:00"}, "Occurred To is before Occurred From"),
        ({"Hate Strand": "race"}, "Hate Crime Flag is not Y"),
        ({"Easting": "560000"}, "Northing is missing"),
    ],
)
def test_inconsistent_rows_are_rejected_saying_which_columns(change: dict[str, str], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        PoliceRecordRow.model_validate({**ROW, **change})


def _envelope(row: dict[str, str]) -> EventEnvelope:
    context = SourceContext(FEED.name, "sussex-police", "k", options(FEED).pseudonymise)
    return FEED.to_envelope(PoliceRecordRow.model_validate(row), context)


def test_the_envelope_carries_the_record_and_no_identifier() -> None:
    envelope = _envelope(ROW)
    assert (envelope.occurred.start, envelope.occurred.end) == (date(2024, 5, 11), date(2024, 5, 12))
    assert envelope.location == PostcodeLocation(postcode="BN21 4UH")
    assert envelope.category == "violent-crime"
    attributes = envelope.attributes
    assert attributes["offence_subgroup"] == "violence-with-injury" and attributes["hour"] == 23
    assert attributes["domestic_abuse"] is True and attributes["alcohol_related"] is True
    assert attributes["victim_age_band"] == "25-34"
    assert str(attributes["victim_pseudonym"]).startswith("ps1_")
    assert attributes["location_description"] == "On or near Grove Road"
    payload = envelope.to_bytes().decode()
    for identifier in ("Testcase", "Ysolde", "1990", "07700", "900123", "47240012345"):
        assert identifier not in payload


def test_grid_references_win_and_incidents_get_their_own_category() -> None:
    incident = {**ROW, "Record Type": "Incident", "Crime Reference": "", "Home Office Offence Code": ""}
    envelope = _envelope({**incident, "Incident Type": "Concern for Safety", "Easting": "560100", "Northing": "99000"})
    assert envelope.category == "incident-concern-for-safety"
    assert envelope.location == BngPoint(easting=560100, northing=99000)
    assert envelope.attributes["offence_code"] is None


def test_every_offence_has_an_ons_group_and_most_a_police_uk_category() -> None:
    assert OFFENCES["105A"].police_uk == "violent-crime" and OFFENCES["46"].police_uk == "shoplifting"
    assert OFFENCES["53C"].police_uk is None  # fraud is not on police.uk: the export's own category is used
    assert _envelope({**ROW, "Home Office Offence Code": "53C", "Police.uk Category": "Other crime"}).category == (
        "other-crime"
    )


def test_the_same_victim_gets_the_same_pseudonym_however_the_name_is_typed() -> None:
    first = _envelope(ROW).attributes["victim_pseudonym"]
    again = _envelope({**ROW, "Victim Surname": " TESTCASE ", "Victim Forename": "ysolde"}).attributes[
        "victim_pseudonym"
    ]
    other = _envelope({**ROW, "Victim DOB": "04/02/1990"}).attributes["victim_pseudonym"]
    assert first == again != other


def test_a_cancelled_crime_is_a_retraction_of_the_same_event(tmp_path: Path) -> None:
    recorded = write(GENERATOR, tmp_path / "a.csv", [ROW])
    cancelled = write(GENERATOR, tmp_path / "b.csv", [{**ROW, "Crime Status": "Cancelled"}])
    [event] = list(outgoing(FEED, recorded, options(FEED), PublishSummary("a", FEED.name)))
    [withdrawn] = list(outgoing(FEED, cancelled, options(FEED), PublishSummary("b", FEED.name)))
    assert isinstance(withdrawn, Retraction) and withdrawn.event_id == event.event_id


def test_the_generator_is_seeded_and_publishes_without_rejections(tmp_path: Path) -> None:
    records = generated(GENERATOR, rows=600)
    assert records == generated(GENERATOR, rows=600)
    assert records != generated(GENERATOR, rows=600, seed=8)
    events, summary = publish(FEED, write(GENERATOR, tmp_path / "police.csv", records))
    assert summary.rejected == 0, [str(e) for e in summary.errors[:5]]
    assert summary.retracted == sum(r["Crime Status"] == "Cancelled" for r in records) > 0
    assert summary.published == len(records) - summary.retracted
    assert_no_identifiers(events, records, "Victim")
    # Repeat victims of domestic abuse: some people are victims several times in the year.
    domestic = Counter(
        e.attributes["victim_pseudonym"]
        for e in events
        if e.attributes["domestic_abuse"] and e.attributes["victim_pseudonym"]
    )
    assert max(domestic.values()) >= 3 and sum(1 for n in domestic.values() if n > 1) >= 5
    categories = Counter(e.category for e in events)
    assert categories.most_common(1)[0][0] == "violent-crime" and any(c.startswith("incident-") for c in categories)


def test_blank_cells_of_the_place_columns_and_the_feeds_own_are_none_together() -> None:
    """PoliceRecordRow's blank-as-None fields add to those of PlaceColumns (Easting, Northing)."""
    record = next(r for r in generated(GENERATOR, rows=50) if r["Easting"] and r["MO Summary"])
    row = PoliceRecordRow.model_validate({**record, "Easting": " ", "Northing": "", "MO Summary": "  "})
    assert (row.easting, row.northing, row.mo_summary) == (None, None, None)
