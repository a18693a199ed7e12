"""The scrubber gives exactly what the first, plain scrubber gave (7 regex substitutions on every text): the same
text and the same counts removed, for every place and free-text value of the shared police.uk files and the
generated feeds, and for hostile strings. The reference below is a verbatim copy of that first scrubber."""

from __future__ import annotations

import csv
import re
from collections import Counter
from functools import cache

import pytest

from producers.anonymisation.free_text import (
    DEFAULT_VOCABULARY,
    REDACTED,
    STREET_WORDS,
    FreeTextPolicy,
    Scrubbed,
    scrub,
    scrubbed_text,
)
from producers.generators.registry import all_generators
from tests.support.feeds import generated
from tests.support.open_data import (
    COLCHESTER_API,
    EASTBOURNE_STREET,
    ESSEX_STREET,
    HAMPSHIRE_STREET,
    SHARED_DATA,
    SUSSEX_STREET,
)

# --- the reference: the scrubber as first written (do not change) ---------------------------------------------
_IDENTIFIERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("email", re.compile(r"[\w.+'-]+\s*(?:@|\(at\))\s*[\w-]+(?:\s*\.\s*[\w-]+)+", re.IGNORECASE)),
    ("postcode", re.compile(r"\b[A-Z]{1,2}[0-9][A-Z0-9]?\s*[0-9][A-Z]{2}\b", re.IGNORECASE)),
    ("ni_number", re.compile(r"\b[A-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]?\b", re.IGNORECASE)),
    ("pnc_id", re.compile(r"\b\d{2,4}\s?/\s?\d{1,7}\s?[A-Z]\b", re.IGNORECASE)),
    ("date", re.compile(r"\b\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}\b")),
    ("number", re.compile(r"(?:\+|\b)\d(?:[\s().-]{0,2}\d){6,}")),
    ("url", re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)),
)
_ROAD_NUMBER = re.compile(r"^[ABM]\d{1,4}(?:\(M\))?$")
_WORD = re.compile(r"[A-Za-z][A-Za-z'/-]*|\d+")
_HOUSE_NUMBER = re.compile(r"^(?:flat|apartment|unit|no\.?)?\s*\d+[a-z]?\b[\s,]*", re.IGNORECASE)
_ON_OR_NEAR = re.compile(r"^on or near\s+", re.IGNORECASE)
_MARKER = "REDACTEDMARKER"


def _redact_identifiers(text: str) -> tuple[str, Counter[str]]:
    removed: Counter[str] = Counter()
    for kind, pattern in _IDENTIFIERS:
        text, count = pattern.subn(f" {REDACTED} ", text)
        if count:
            removed[kind] += count
    return text, removed


def _vocabulary(text: str, words: frozenset[str], removed: Counter[str]) -> str | None:
    out: list[str] = []
    for token in _WORD.findall(text.replace(REDACTED, f" {_MARKER} ")):
        if token.lower() in words or (token.isdigit() and len(token) <= 2):
            out.append(token.lower())
            continue
        if token != _MARKER:
            removed["word"] += 1
        if not out or out[-1] != REDACTED:
            out.append(REDACTED)
    kept = [token for token in out if token != REDACTED]
    return " ".join(out) if kept else None


def _street(text: str, removed: Counter[str]) -> str | None:
    if removed:
        return None
    cleaned = " ".join(text.split())
    prefix = "On or near " if _ON_OR_NEAR.match(cleaned) else ""
    place = _ON_OR_NEAR.sub("", cleaned)
    while (shorter := _HOUSE_NUMBER.sub("", place, count=1)) != place:
        place = shorter
    place = place.strip(" ,")
    words = place.split()
    if not words or not all(w[:1].isalnum() for w in words):
        return None
    last = words[-1]
    if last.lower() in STREET_WORDS or _ROAD_NUMBER.match(last):
        return prefix + place
    removed["place"] += 1
    return None


def reference(text: str, policy: FreeTextPolicy, vocabulary: frozenset[str] | None = None) -> Scrubbed:
    redacted, removed = _redact_identifiers(text)
    if policy == "street":
        return Scrubbed(_street(redacted, removed), removed)
    return Scrubbed(_vocabulary(redacted, vocabulary or DEFAULT_VOCABULARY, removed), removed)


# --- the values ----------------------------------------------------------------------------------------------
_PLACE_COLUMNS = {
    street: "Location" for street in (SUSSEX_STREET, ESSEX_STREET, HAMPSHIRE_STREET, EASTBOURNE_STREET)
} | {COLCHESTER_API: "street_name"}
# The generated feeds' free-text columns (what their feeds scrub).
_FREE_TEXT_COLUMNS = {
    "council-asb": ("Incident Type", "Description"),
    "istv-ae": ("AssaultMethodDescription", "AssaultLocationDescription"),
    "police-records": ("Location Description", "MO Summary"),
}

HOSTILE = [
    "",
    " ",
    "\x00",
    "On or near \x00 Road",
    "On or near Quillan Exampleton",
    "Quillan Exampleton punched him",
    "quillan.exampleton@example.org",
    "quillan (at) example . org",
    "QUILLAN(AT)EXAMPLE.ORG hit me",
    "On or near 12 Grove Road",
    "Flat 3, 12 Grove Road",
    "On or near A27",
    "On or near M25(M)",
    "BN21 4UE",
    "bn214ue outside the pub",
    "AB 12 34 56 C",
    "ab123456c",
    "19/123456X",
    "14/02/1987",
    "1987-02-14",
    "07700 900123",
    "+44 7700 900456",
    "943 476 5919",
    "(01323) 123-456",
    "https://example.org/x",
    "HTTPS://EXAMPLE.ORG",
    "www.example.org",
    "WWW.EXAMPLE.ORG hit",
    "http\u017f://example.org",  # a long s folds to "s" under IGNORECASE
    "On or near \u0660\u0667\u0667\u0660\u0660 \u0669\u0660\u0660\u0661\u0662\u0663 Road",  # Arabic-Indic digits are \d
    "On or near \uff10\uff17\uff17\uff10\uff10 \uff19\uff10\uff10\uff11\uff12\uff13 Road",  # fullwidth digits
    "On or near Grove Road\u200b",
    "On or near Café Square",
    "On or near Straße Road",
    "On or near \uff27rove Road",  # fullwidth G
    "punched 7 times by two men at the pub",
    "On or near Supermarket",
    "On or near Petrol Station",
    "on or near   grove   road",
    "On or near",
    "On or near ,",
    "Unit 4b, Station Road",
    "No. 5 High Street",
    "@",
    "(at)",
    "a" * 2_000,
    "1" * 2_000,
    "hit with a bottle " * 200,
    "\ud800 lone surrogate Road",
    "On or near \u202egroR evorG",
]


@cache
def _values() -> tuple[str, ...]:
    found: set[str] = set(HOSTILE)
    for path, column in _PLACE_COLUMNS.items():
        with (SHARED_DATA / path).open(encoding="utf-8", newline="") as handle:
            found.update(row[column] for row in csv.DictReader(handle))
    generators = all_generators()
    for dataset, columns in _FREE_TEXT_COLUMNS.items():
        for seed in (7, 8):
            for row in generated(generators[dataset], rows=3000, seed=seed):
                found.update(row[column] for column in columns if column in row)
    return tuple(sorted(found))


def test_the_values_are_many_and_include_identifier_shaped_ones() -> None:
    values = _values()
    assert len(values) > 5000
    assert sum(1 for v in values if reference(v, "street").removed) > 20


@pytest.mark.parametrize("policy", ["street", "vocabulary"])
def test_scrub_equals_the_reference_on_every_value(policy: FreeTextPolicy) -> None:
    different = [v for v in _values() if scrub(v, policy) != reference(v, policy)]
    assert different == []


def test_scrub_equals_the_reference_with_a_deployment_vocabulary() -> None:
    own = frozenset({"grove", "road", "hit", "bottle", "pub"})
    different = [v for v in _values() if scrub(v, "vocabulary", own) != reference(v, "vocabulary", own)]
    assert different == []


def test_scrub_twice_gives_the_same_and_results_are_not_shared() -> None:
    first = scrub("On or near 12 Grove Road, 07700 900123", "street")
    first.removed["number"] += 100  # a caller changing what it was given changes nothing for the next
    assert scrub("On or near 12 Grove Road, 07700 900123", "street") == reference(
        "On or near 12 Grove Road, 07700 900123", "street"
    )


@pytest.mark.parametrize("policy", ["street", "vocabulary"])
def test_the_remembered_text_equals_the_reference_first_time_and_after(policy: FreeTextPolicy) -> None:
    for _ in range(2):  # the second pass answers short texts from memory
        different = [v for v in _values() if scrubbed_text(v, policy) != reference(v, policy).text]
        assert different == []
