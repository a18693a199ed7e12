"""Anonymisation at source: free-text scrubbing."""

from __future__ import annotations

import csv

import pytest

from producers.anonymisation.free_text import scrub
from tests.support.open_data import EASTBOURNE_STREET, SHARED_DATA

PLANTED = {
    "name": "Quillan Exampleton",
    "nhs": "943 476 5919",
    "nhs_compact": "9434765919",
    "phone": "07700 900123",
    "phone_intl": "+44 7700 900456",
    "email": "quillan.exampleton@example.org",
    "postcode": "BN21 4UE",
    "postcode_compact": "bn214ue",
    "ni": "AB 12 34 56 C",
    "pnc": "19/123456X",
    "dob": "14/02/1987",
}


@pytest.mark.parametrize("policy", ["vocabulary", "street"])
@pytest.mark.parametrize("planted", sorted(PLANTED))
def test_no_planted_identifier_survives_either_policy(policy: str, planted: str) -> None:
    value = PLANTED[planted]
    text = f"punched outside the pub by {value} then kicked"
    kept = scrub(text, policy).text or ""  # type: ignore[arg-type]
    assert value.lower() not in kept.lower()
    for part in value.replace("/", " ").split():
        if len(part) >= 4:
            assert part.lower() not in kept.lower()


def test_vocabulary_keeps_the_facts_of_the_incident() -> None:
    result = scrub("Hit with a glass bottle outside the Kings Arms pub, call 07700 900123", "vocabulary")
    assert result.text == "hit with a glass bottle outside the [redacted] arms pub [redacted]"
    assert result.removed["number"] == 1 and result.removed["word"] == 2


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("On or near Grove Road", "On or near Grove Road"),
        ("On or near Parking Area", "On or near Parking Area"),
        ("12 Acacia Avenue", "Acacia Avenue"),
        ("Flat 3, 12 Acacia Avenue", "Acacia Avenue"),
        ("On or near A259", "On or near A259"),
        ("On or near Quillan Exampleton", None),
        ("Grove Road BN21 4UE", None),
        ("", None),
    ],
)
def test_street_policy_keeps_street_level_places_only(text: str, kept: str | None) -> None:
    assert scrub(text, "street").text == kept


def test_police_uk_locations_mostly_survive_the_street_policy() -> None:
    with (SHARED_DATA / EASTBOURNE_STREET).open(encoding="utf-8") as handle:
        locations = [row["Location"] for row in csv.DictReader(handle)]
    kept = [loc for loc in locations if scrub(loc, "street").text == loc]
    assert len(kept) / len(locations) > 0.9, f"{len(kept)}/{len(locations)}"
