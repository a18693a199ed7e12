"""Anonymisation at source: keyed pseudonyms per linkage domain."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest

from producers.anonymisation.pseudonyms import (
    PseudonymError,
    nhs_number_identifier,
    nhs_number_valid,
    person_identifier,
    pseudonym,
)

KEY_A = b"a" * 32
KEY_B = b"b" * 32


def test_same_identifier_same_domain_and_key_gives_the_same_pseudonym() -> None:
    person = person_identifier("Exampleton", "Quillan", date(1987, 2, 14))
    again = person_identifier(" exampleton ", "QUILLAN", date(1987, 2, 14))
    assert pseudonym(KEY_A, "person", person) == pseudonym(KEY_A, "person", again)


@pytest.mark.parametrize(
    ("key", "domain", "born"),
    [(KEY_A, "marac", date(1987, 2, 14)), (KEY_B, "person", date(1987, 2, 14)), (KEY_A, "person", date(1987, 2, 15))],
    ids=["other-domain", "other-key", "other-person"],
)
def test_other_domain_other_key_or_other_person_gives_another_pseudonym(key: bytes, domain: str, born: date) -> None:
    person = person_identifier("Exampleton", "Quillan", date(1987, 2, 14))
    base = pseudonym(KEY_A, "person", person)
    assert pseudonym(key, domain, person_identifier("Exampleton", "Quillan", born)) != base


def test_a_pseudonym_is_not_a_bare_hash_and_reveals_nothing() -> None:
    person = person_identifier("Exampleton", "Quillan", date(1987, 2, 14))
    value = pseudonym(KEY_A, "person", person)
    assert value.startswith("ps1_") and "exampleton" not in value
    assert value[4:] not in hashlib.sha256(person.encode()).hexdigest()


def test_a_short_key_is_refused() -> None:
    person = person_identifier("Exampleton", "Quillan", date(1987, 2, 14))
    with pytest.raises(PseudonymError):
        pseudonym(b"short", "person", person)


@pytest.mark.parametrize(("number", "valid"), [("9434765919", True), ("9434765918", False)])
def test_nhs_numbers_are_checked(number: str, valid: bool) -> None:
    assert nhs_number_valid(number) is valid


def test_nhs_numbers_are_normalised() -> None:
    assert nhs_number_identifier("943-476-5919") == nhs_number_identifier("943 476 5919")


def test_an_invalid_nhs_number_is_refused() -> None:
    with pytest.raises(PseudonymError):
        nhs_number_identifier("943 476 5918")
