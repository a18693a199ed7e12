"""Anonymisation at source: linkage keys (key files, the environment) and the pseudonymiser."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from producers.anonymisation.linkage_keys import LinkageKeyError, Pseudonymiser, load_keys, read_key_file
from producers.anonymisation.pseudonyms import person_identifier, pseudonym

KEY_A = b"a" * 32
KEY_B = b"b" * 32


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
