"""Anonymisation at source: free-text scrubbing, keyed pseudonyms per linkage domain, and linkage keys."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from producers.anonymisation.free_text import scrub
from producers.anonymisation.linkage_keys import LinkageKeyError, Pseudonymiser, load_keys, read_key_file
from producers.anonymisation.pseudonyms import (
    PseudonymError,
    nhs_number_identifier,
    nhs_number_valid,
    person_identifier,
    pseudonym,
)

KEY_A = b"a" * 32
KEY_B = b"b" * 32

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
    import csv

    path = Path(__file__).resolve().parents[3] / "shared/data/fixture_eastbourne/2019-01-sussex-street_eastbourne.csv"
    with path.open(encoding="utf-8") as handle:
        locations = [row["Location"] for row in csv.DictReader(handle)]
    kept = [loc for loc in locations if scrub(loc, "street").text == loc]
    assert len(kept) / len(locations) > 0.9, f"{len(kept)}/{len(locations)}"


def test_same_identifier_same_domain_and_key_gives_the_same_pseudonym() -> None:
    person = person_identifier("Exampleton", "Quillan", date(1987, 2, 14))
    again = person_identifier(" exampleton ", "QUILLAN", date(1987, 2, 14))
    assert pseudonym(KEY_A, "person", person) == pseudonym(KEY_A, "person", again)


def test_other_domain_other_key_or_other_person_gives_another_pseudonym() -> None:
    person = person_identifier("Exampleton", "Quillan", date(1987, 2, 14))
    base = pseudonym(KEY_A, "person", person)
    assert pseudonym(KEY_A, "marac", person) != base
    assert pseudonym(KEY_B, "person", person) != base
    assert pseudonym(KEY_A, "person", person_identifier("Exampleton", "Quillan", date(1987, 2, 15))) != base


def test_a_pseudonym_is_not_a_bare_hash_and_reveals_nothing() -> None:
    import hashlib

    person = person_identifier("Exampleton", "Quillan", date(1987, 2, 14))
    value = pseudonym(KEY_A, "person", person)
    assert value.startswith("ps1_") and "exampleton" not in value
    assert value[4:] not in hashlib.sha256(person.encode()).hexdigest()
    with pytest.raises(PseudonymError):
        pseudonym(b"short", "person", person)


def test_nhs_numbers_are_checked_and_normalised() -> None:
    assert nhs_number_valid("9434765919") and not nhs_number_valid("9434765918")
    assert nhs_number_identifier("943-476-5919") == nhs_number_identifier("943 476 5919")
    with pytest.raises(PseudonymError):
        nhs_number_identifier("943 476 5918")


def test_key_file_and_environment(tmp_path: Path) -> None:
    path = tmp_path / "keys.txt"
    path.write_text("# partner keys\nperson = " + "k" * 40 + "\nmarac = " + "m" * 40 + "\n")
    assert read_key_file(path)["person"] == b"k" * 40
    keys = load_keys(path, {"person"}, {"HUB_LINKAGE_KEY_PERSON": "e" * 40})
    assert keys["person"] == b"e" * 40 and keys["marac"] == b"m" * 40
    path.write_text("person = tooshort\n")
    with pytest.raises(LinkageKeyError, match=r"line 1: the key is shorter") as info:
        read_key_file(path)
    assert "tooshort" not in str(info.value)


def test_pseudonymiser_refuses_a_domain_without_a_key() -> None:
    with pytest.raises(LinkageKeyError, match="HUB_LINKAGE_KEY_PERSON_EAST_SUSSEX"):
        Pseudonymiser({"victim_pseudonym": "person-east-sussex"}, {})
    linker = Pseudonymiser({"victim": "person", "offender": "probation"}, {"person": KEY_A, "probation": KEY_B})
    person = person_identifier("Exampleton", "Quillan", date(1987, 2, 14))
    assert linker("victim", person) == pseudonym(KEY_A, "person", person)
    assert linker("offender", person) == pseudonym(KEY_B, "probation", person)
