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


def test_other_domain_other_key_or_other_person_gives_another_pseudonym() -> None:
    person = person_identifier("Exampleton", "Quillan", date(1987, 2, 14))
    base = pseudonym(KEY_A, "person", person)
    assert pseudonym(KEY_A, "marac", person) != base
    assert pseudonym(KEY_B, "person", person) != base
    assert pseudonym(KEY_A, "person", person_identifier("Exampleton", "Quillan", date(1987, 2, 15))) != base


def test_a_pseudonym_is_not_a_bare_hash_and_reveals_nothing() -> None:
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
