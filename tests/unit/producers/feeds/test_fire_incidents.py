"""Fire incidents: IRS groups, types and motives validated by field, categories derived from them, no address or
caller details in events, and generated exports publish without rejections."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from pydantic import ValidationError

from producers.feed import SourceContext
from producers.feeds.fire_incidents import FEED, FireIncidentRow
from producers.generators.fire_incidents import GENERATOR
from sharing_protocols.envelope import BngPoint
from tests.support.feeds import generated, options, publish, write

ROW = {
    "Incident Number": "ES2024010000042",
    "Call Date": "2024-05-04",
    "Call Time": "21:37:00",
    "Incident Group": "Fire",
    "Incident Type": "Secondary fire",
    "Cause Motive": "Deliberate",
    "Property Type": "Wheelie bin",
    "Easting": "561000",
    "Northing": "99500",
    "Station Ground": "Eastbourne Fire Station",
    "Casualties": "0",
    "Address": "12 Grove Road, BN21 4UH",
    "Caller Telephone": "07700 900321",
}


def _event(row: dict[str, str]) -> dict[str, object]:
    opts = options(FEED)
    ctx = SourceContext(FEED.name, opts.partner, "k", opts.pseudonymise)
    return FEED.to_envelope(FireIncidentRow.model_validate(row), ctx).model_dump(mode="json")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"Incident Group": "Flood"}, "Incident Group"),
        ({"Incident Type": "Bonfire"}, "Incident Type"),
        ({"Cause Motive": "Arson"}, "Cause Motive"),
        ({"Call Date": "2024-02-30"}, "Call Date"),
        ({"Easting": "east"}, "Easting"),
        ({"Casualties": "-1"}, "Casualties"),
        ({"Incident Number": ""}, "Incident Number"),
    ],
)
def test_bad_fields_are_named(change: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        FireIncidentRow.model_validate({**ROW, **change})
    assert info.value.errors()[0]["loc"][0] == field


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"Incident Group": "False alarm"}, "does not belong to the Incident Group"),
        ({"Cause Motive": ""}, "Cause Motive is required for a fire"),
        ({"Northing": ""}, "Northing is missing"),
    ],
)
def test_inconsistent_rows_are_rejected(change: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        FireIncidentRow.model_validate({**ROW, **change})


@pytest.mark.parametrize(
    ("change", "category"),
    [
        ({}, "deliberate-secondary-fire"),
        ({"Incident Type": "PRIMARY", "Cause Motive": "ACCIDENTAL"}, "accidental-primary-fire"),
        ({"Incident Group": "False alarm", "Incident Type": "False alarm - malicious"}, "false-alarm"),
        ({"Incident Group": "NON_FIRE", "Incident Type": "SPECIAL_SERVICE", "Cause Motive": ""}, "special-service"),
    ],
)
def test_categories_come_from_group_type_and_motive(change: dict[str, str], category: str) -> None:
    assert _event({**ROW, **change})["category"] == category


def test_the_event_carries_the_incident_and_no_address_or_caller() -> None:
    opts = options(FEED)
    event = FEED.to_envelope(
        FireIncidentRow.model_validate(ROW), SourceContext(FEED.name, opts.partner, "k", opts.pseudonymise)
    )
    assert event.location == BngPoint(easting=561000, northing=99500)
    assert event.attributes["call_hour"] == 21 and event.attributes["incident_type"] == "secondary"
    assert event.attributes["cause_motive"] == "deliberate" and event.attributes["casualties"] == 0
    payload = event.to_bytes().decode()
    assert "Grove" not in payload and "BN21" not in payload and "07700" not in payload


def test_the_generator_is_deterministic_with_a_realistic_mix() -> None:
    records = generated(GENERATOR, rows=500)
    assert records == generated(GENERATOR, rows=500) and records != generated(GENERATOR, rows=500, seed=8)
    groups = Counter(r["Incident Group"] for r in records)
    assert groups["False alarm"] > groups["Non-fire incident"] and groups["Fire"] > 100
    assert {r["Station Ground"] for r in records} >= {"Eastbourne Fire Station"}


def test_generated_exports_publish_without_rejections_or_identifiers(tmp_path: Path) -> None:
    records = generated(GENERATOR, rows=300)
    events, summary = publish(FEED, write(GENERATOR, tmp_path / "fire.csv", records))
    assert (summary.published, summary.rejected) == (300, 0)
    payload = b"".join(e.to_bytes() for e in events).decode()
    for record in records:
        assert record["Caller Name"] not in payload and record["Caller Telephone"] not in payload
        assert record["Address"].split(", ")[-1] not in payload
    assert sum(1 for e in events if e.category == "deliberate-secondary-fire") > 10
