"""Anonymisation at source: linkage keys (key files, the environment) and the pseudonymiser."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from producers.anonymisation.linkage_keys import LinkageKeyError, Pseudonymiser, load_keys, read_key_file
from producers.anonymisation.pseudonyms import person_identifier, pseudonym

KEY_A = b"a" * 32
KEY_B = b"b" * 32


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "keys.txt"
    path.write_text("# partner keys\nperson = " + "k" * 40 + "\nmarac = " + "m" * 40 + "\n")
    return path


def test_a_key_file_is_read(key_file: Path) -> None:
    assert read_key_file(key_file)["person"] == b"k" * 40


def test_the_environment_overrides_the_key_file_domain_by_domain(key_file: Path) -> None:
    keys = load_keys(key_file, {"person"}, {"HUB_LINKAGE_KEY_PERSON": "e" * 40})
    assert keys["person"] == b"e" * 40 and keys["marac"] == b"m" * 40


def test_a_short_key_is_refused_by_line_without_echoing_it(tmp_path: Path) -> None:
    path = tmp_path / "keys.txt"
    path.write_text("person = tooshort\n")
    with pytest.raises(LinkageKeyError, match=r"line 1: the key is shorter") as info:
        read_key_file(path)
    assert "tooshort" not in str(info.value)


def test_pseudonymiser_refuses_a_domain_without_a_key() -> None:
    with pytest.raises(LinkageKeyError, match="HUB_LINKAGE_KEY_PERSON_EAST_SUSSEX"):
        Pseudonymiser({"victim_pseudonym": "person-east-sussex"}, {})


def test_pseudonymiser_uses_each_fields_domain_and_key() -> None:
    linker = Pseudonymiser({"victim": "person", "offender": "probation"}, {"person": KEY_A, "probation": KEY_B})
    person = person_identifier("Exampleton", "Quillan", date(1987, 2, 14))
    assert linker("victim", person) == pseudonym(KEY_A, "person", person)
    assert linker("offender", person) == pseudonym(KEY_B, "probation", person)
