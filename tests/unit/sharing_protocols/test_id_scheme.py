"""Event id schemes (sharing_protocols.id_scheme): the grammar, the key's fingerprint and the ids each scheme makes."""

from __future__ import annotations

import uuid

import pytest

from sharing_protocols.envelope import keyed_event_id, stable_event_id
from sharing_protocols.id_scheme import (
    HEADER,
    PUBLIC,
    InvalidIdScheme,
    check_id,
    is_scheme,
    key_fingerprint,
    scheme_for,
    scheme_of,
)

KEY_A, KEY_B = b"a" * 32, b"b" * 32
DATASET, PARTNER = "police-uk-street", "sussex-police"


def test_no_key_is_the_public_scheme_and_a_key_is_keyed_with_16_hex_digits_of_its_fingerprint() -> None:
    assert scheme_for(None) == PUBLIC == "public"
    scheme = scheme_for(KEY_A)
    assert scheme.startswith("keyed:") and len(scheme) == len("keyed:") + 16
    assert int(scheme.removeprefix("keyed:"), 16) >= 0
    assert is_scheme(scheme) and is_scheme(PUBLIC)


def test_one_key_always_has_one_fingerprint_and_two_keys_have_two() -> None:
    assert scheme_for(KEY_A) == scheme_for(bytes(KEY_A))
    fingerprints = {key_fingerprint(bytes([i]) * 32) for i in range(256)}
    assert len(fingerprints) == 256


def test_the_fingerprint_reveals_neither_the_key_nor_any_id_made_with_it() -> None:
    key = bytes(range(32))
    fingerprint = key_fingerprint(key)
    assert fingerprint not in key.hex()
    for source_key in ("", "1", "crime-1"):
        event_id = keyed_event_id(key, DATASET, PARTNER, source_key)
        assert fingerprint not in event_id.hex


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Public",
        "public ",
        "keyed:",
        "keyed:0123456789abcde",
        "keyed:0123456789abcdef0",
        "keyed:0123456789ABCDEF",
        "keyed:0123456789abcdeg",
        "uuid5",
        "keyed:0123456789abcdef\n",
    ],
)
def test_anything_else_is_not_a_scheme(text: str) -> None:
    assert not is_scheme(text)


def test_the_headers_name_one_scheme_or_none() -> None:
    scheme = scheme_for(KEY_A)
    assert scheme_of([("dataset", b"x"), (HEADER, scheme.encode())]) == scheme
    assert scheme_of([(HEADER, b"public")]) == "public"
    assert scheme_of([("dataset", b"x")]) is None
    assert scheme_of([]) is None


@pytest.mark.parametrize(
    "value", [b"", None, b"keyed:zz", b"\xff\xfe", b"public\x00", b"keyed:0123456789abcdef;public", b"secret-123456"]
)
def test_a_header_that_is_not_a_scheme_is_refused_without_quoting_it(value: bytes | None) -> None:
    with pytest.raises(InvalidIdScheme, match="is not a scheme") as refused:
        scheme_of([(HEADER, value)])
    assert "secret" not in str(refused.value)


def test_a_header_that_appears_twice_is_refused_even_when_both_agree() -> None:
    with pytest.raises(InvalidIdScheme, match="more than once"):
        scheme_of([(HEADER, b"public"), (HEADER, b"public")])


def test_each_scheme_accepts_the_ids_it_makes_and_refuses_the_other_kind() -> None:
    public_id = stable_event_id(DATASET, PARTNER, "crime-1")
    keyed_id = keyed_event_id(KEY_A, DATASET, PARTNER, "crime-1")
    check_id(PUBLIC, public_id)
    check_id(scheme_for(KEY_A), keyed_id)
    check_id(scheme_for(KEY_B), keyed_id)  # the version cannot tell two keys apart: the feed's kept scheme does
    with pytest.raises(InvalidIdScheme, match="version 4 UUID, but scheme public makes version 5 ids"):
        check_id(PUBLIC, keyed_id)
    with pytest.raises(InvalidIdScheme, match="version 5 UUID"):
        check_id(scheme_for(KEY_A), public_id)
    with pytest.raises(InvalidIdScheme):
        check_id(PUBLIC, uuid.UUID(int=0))
