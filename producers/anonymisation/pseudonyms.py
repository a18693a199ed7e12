"""Keyed pseudonyms: HMAC-SHA256 of a normalised identifier, under a linkage domain's secret key.

Partners that must link records (e.g. police and council for repeat victims) are given the same key for one
linkage domain; the same person then gets the same pseudonym in both feeds, and a different, unlinkable one in
any other domain. Without the key a pseudonym cannot be reversed or recomputed from a guessed identifier,
which a bare hash of a name or NHS number would allow.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from datetime import date

MIN_KEY_BYTES = 32
PREFIX = "ps1_"  # version of the scheme, so that a change of scheme never collides with old pseudonyms

_LETTERS = re.compile(r"[^a-z]")
_DIGITS = re.compile(r"\D")


class PseudonymError(ValueError):
    """An identifier that cannot be pseudonymised (empty after normalisation, or a key too short)."""


def pseudonym(key: bytes, domain: str, identifier: str) -> str:
    """The pseudonym of an already normalised `identifier` in `domain` under `key`."""
    if len(key) < MIN_KEY_BYTES:
        raise PseudonymError(f"a linkage key must be at least {MIN_KEY_BYTES} bytes")
    if not identifier:
        raise PseudonymError("empty identifier")
    digest = hmac.new(key, f"{domain}\x1f{identifier}".encode(), hashlib.sha256).hexdigest()
    return PREFIX + digest[:40]


def _name(value: str) -> str:
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode().lower()
    return _LETTERS.sub("", folded)


def person_identifier(surname: str, forename: str, born: date) -> str:
    """A person as partners record them: surname, forename (case, accents, spaces, hyphens ignored), birth date."""
    surname_key, forename_key = _name(surname), _name(forename)
    if not surname_key or not forename_key:
        raise PseudonymError("surname and forename are needed")
    return f"person:{surname_key}:{forename_key}:{born.isoformat()}"


def nhs_number_identifier(nhs_number: str) -> str:
    """An NHS number, spaces and dashes ignored; rejects numbers whose modulus 11 check digit is wrong."""
    digits = _DIGITS.sub("", nhs_number)
    if len(digits) != 10 or not nhs_number_valid(digits):
        raise PseudonymError("not a valid NHS number")
    return f"nhs:{digits}"


def nhs_number_valid(digits: str) -> bool:
    """The NHS number modulus 11 check."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * (10 - i) for i, d in enumerate(digits[:9]))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9])


def reference_identifier(system: str, reference: str) -> str:
    """An agency's own person or case reference within its `system` (case and spaces ignored)."""
    cleaned = "".join(reference.split()).upper()
    if not cleaned:
        raise PseudonymError("empty reference")
    return f"ref:{system}:{cleaned}"
