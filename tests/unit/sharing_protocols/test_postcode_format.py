"""Postcode normalisation: real Code-Point/ONSPD forms, invalid inputs, and idempotence (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sharing_protocols.postcode_format import compact, district, normalise, sector
from sharing_protocols.postcode_format import outward as outward_alone

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("bn214uh", "BN21 4UH"),
        ("BN21 4UH", "BN21 4UH"),
        (" bn21  4uh ", "BN21 4UH"),
        ("BN107AA", "BN10 7AA"),  # Code-Point Open's fixed-width form
        ("AB1  0AA", "AB1 0AA"),  # ONSPD pcd8
        ("AB10 1AA", "AB10 1AA"),
        ("CM1 1AA", "CM1 1AA"),
        ("SO14 7DU", "SO14 7DU"),
        ("W1A 1AA", "W1A 1AA"),
        ("EC1A 1BB", "EC1A 1BB"),
        ("m1 1ae", "M1 1AE"),
        ("gir0aa", "GIR 0AA"),
    ],
)
def test_real_postcodes_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected
    assert compact(raw) == expected.replace(" ", "")


@pytest.mark.parametrize(
    "raw", ["", "   ", "BN21", "BN21 4U", "1BN 4UH", "BN21 4UHX", "BN21-4UH", "ABC1 1AA", "BN21 44H"]
)
def test_invalid_postcodes_are_none(raw: str) -> None:
    assert normalise(raw) is None
    assert compact(raw) is None
    assert sector(raw) is None
    assert district(raw) is None


@pytest.mark.parametrize(("raw", "expected"), [("bn214uh", "BN21 4"), ("W1A 1AA", "W1A 1")])
def test_sector(raw: str, expected: str) -> None:
    assert sector(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [("bn214uh", "BN21"), ("W1A1AA", "W1A"), ("AB1 0AA", "AB1")])
def test_district(raw: str, expected: str) -> None:
    assert district(raw) == expected


@pytest.mark.parametrize(
    ("postcode", "expected"),
    [
        ("BN21 4UH", "BN21 4"),
        ("bn214uh", "BN21 4"),
        ("  SW1A  1AA ", "SW1A 1"),
        ("M1 1AE", "M1 1"),
        ("CM2 0PP", "CM2 0"),
        ("BN21", None),  # an outward code alone is not a full postcode
        ("BN21 4U", None),
        ("not a postcode", None),
    ],
)
def test_postcode_sector(postcode: str, expected: str | None) -> None:
    assert sector(postcode) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("bn21", "BN21"), (" W1A ", "W1A"), ("EC1A", "EC1A"), ("M1", "M1"), ("BN21 4UH", None), ("1BN", None), ("", None)],
)
def test_an_outward_code_alone(raw: str, expected: str | None) -> None:
    assert outward_alone(raw) == expected


outward = st.one_of(
    st.tuples(st.sampled_from(LETTERS), st.sampled_from(DIGITS)).map("".join),
    st.tuples(st.sampled_from(LETTERS), st.sampled_from(DIGITS), st.sampled_from(DIGITS)).map("".join),
    st.tuples(st.sampled_from(LETTERS), st.sampled_from(DIGITS), st.sampled_from(LETTERS)).map("".join),
    st.tuples(st.sampled_from(LETTERS), st.sampled_from(LETTERS), st.sampled_from(DIGITS)).map("".join),
    st.tuples(*(st.sampled_from(x) for x in (LETTERS, LETTERS, DIGITS, DIGITS))).map("".join),
    st.tuples(*(st.sampled_from(x) for x in (LETTERS, LETTERS, DIGITS, LETTERS))).map("".join),
)
inward = st.tuples(st.sampled_from(DIGITS), st.sampled_from(LETTERS), st.sampled_from(LETTERS)).map("".join)


@given(st.text(max_size=12))
def test_normalise_is_idempotent(raw: str) -> None:
    once = normalise(raw)
    if once is not None:
        assert normalise(once) == once
        assert once == once.upper().strip()
        assert once.count(" ") == 1
        assert len(once.split(" ")[1]) == 3


@given(outward, inward, st.sampled_from(["", " ", "  ", "\t"]), st.booleans())
def test_any_spacing_and_case_gives_the_canonical_form(out: str, inw: str, gap: str, lower: bool) -> None:
    raw = f" {out}{gap}{inw} "
    canonical = f"{out} {inw}"
    assert normalise(raw.lower() if lower else raw) == canonical
    assert compact(raw) == out + inw
    assert sector(raw) == f"{out} {inw[0]}"
    assert district(raw) == out
