"""Scrubbing free text before it leaves a partner: identifiers removed, and only words known to be safe kept.

Two steps. First, anything shaped like an identifier is cut out: e-mail addresses, full postcodes, NI numbers, PNC
ids, dates, and any run of 7 or more digits (phone, NHS and other reference numbers). Then the policy decides
what of the rest survives, since names cannot be recognised by their shape:
- "vocabulary": each word is kept only if it is in a controlled vocabulary (a deployment may supply its own);
  every other word becomes one "[redacted]" marker.
- "street": a street-level place as police.uk publishes it ("On or near Grove Road", "On or near Supermarket"):
  house numbers are dropped and the text is kept only if it ends in a street or place word; otherwise nothing.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

FreeTextPolicy = Literal["vocabulary", "street"]
REDACTED = "[redacted]"

_IDENTIFIERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("email", re.compile(r"[\w.+'-]+\s*(?:@|\(at\))\s*[\w-]+(?:\s*\.\s*[\w-]+)+", re.IGNORECASE)),
    ("postcode", re.compile(r"\b[A-Z]{1,2}[0-9][A-Z0-9]?\s*[0-9][A-Z]{2}\b", re.IGNORECASE)),
    ("ni_number", re.compile(r"\b[A-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]?\b", re.IGNORECASE)),
    ("pnc_id", re.compile(r"\b\d{2,4}\s?/\s?\d{1,7}\s?[A-Z]\b", re.IGNORECASE)),
    ("date", re.compile(r"\b\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}\b")),
    ("number", re.compile(r"(?:\+|\b)\d(?:[\s().-]{0,2}\d){6,}")),
    ("url", re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)),
)

# What every identifier pattern needs at least one of (a digit, an at sign, a URL start), matched the same way (\d is
# any Unicode digit, IGNORECASE folds the same): text without any of them has nothing to redact.
_MAY_IDENTIFY = re.compile(r"\d|@|\(at\)|https?://|www\.", re.IGNORECASE)

# Words that carry the facts of a violent or anti-social incident and cannot identify anyone.
DEFAULT_VOCABULARY: frozenset[str] = frozenset(
    """
    a an the and or but not no nor of on in at to from by with without into onto over under near outside inside
    behind between after before during while when where then than as is was were are been be being has had have
    he she they it his her their its them him someone somebody person people man men woman women male female boy
    boys girl girls child children youth youths teen teenager teenagers group gang crowd stranger strangers
    unknown known partner ex husband wife boyfriend girlfriend friend friends family relative neighbour neighbours
    staff member members customer customers security doorman doormen bouncer bouncers officer officers patient
    one two three four five six several many some all other another same
    assault assaulted attack attacked hit hitting punch punched punching kick kicked kicking stamp stamped
    headbutt headbutted push pushed shove shoved slap slapped bite bitten bit strangled strangulation choke
    choked grab grabbed threw thrown throw fell fall fallen knocked struck stab stabbed stabbing cut slash slashed
    shot shooting fight fighting fought brawl scuffle altercation argument dispute robbery robbed mugged mugging
    threatened threat threats abuse abused abusive verbal sexual domestic racial homophobic hate damage damaged
    smashed broken broke vandalism graffiti arson fire set started burning burnt noise noisy loud music party
    shouting swearing drunk drunken intoxicated alcohol drink drinking drugs drug dealing needles litter
    dumping fly tipping begging rowdy nuisance harassment intimidation
    weapon weapons knife knives blade bladed bottle bottles glass glasses glassed bat bats stick sticks stone
    stones brick bricks bar metal wooden hammer screwdriver scissors firearm gun guns air rifle pistol
    fist fists foot feet feetkick hand hands elbow knee head teeth boot boots shoe shoes object objects blunt
    sharp weapon-like chair chairs table tables pint cup mug plate phone vehicle car cars van bike bicycle
    scooter moped motorbike bus taxi train
    face nose eye eyes mouth jaw ear ears neck chest arm arms leg legs back body injury injuries injured wound
    wounds bleeding bruise bruised bruising fracture fractured laceration minor serious
    home house flat flats address property garden driveway doorway door stairwell stairs corridor room bedroom
    kitchen bathroom hallway street road lane avenue alley alleyway path footpath pavement car park carpark
    park playground field beach seafront promenade pier harbour river canal woods wood common green square
    town city centre center high shop shops shopping supermarket store market pub pubs bar bars nightclub
    club clubs restaurant takeaway cafe hotel hostel venue event festival concert stadium ground school
    college university workplace work office hospital surgery pharmacy station railway bus stop platform
    church garage petrol forecourt toilet toilets public private residential commercial licensed premises
    night evening morning afternoon daytime weekend late early
    """.split()
)

# The last word of a street-level place: street types, and the place types police.uk snaps locations to.
STREET_WORDS: frozenset[str] = frozenset(
    """
    road street close avenue lane way drive place gardens crescent court grove hill mews walk square green mead
    terrace rise park parade hall gate field fields view chase end croft approach meadow meadows row villas
    broadway vale wood woods wharf causeway drove mount esplanade quay cross path corner common lea passage link
    yard woodlands by-pass bypass spur spinney fairway paddock nook dale cloisters acre crossways orchard retreat
    oaks birches lawns heights copse piece bank estate ridge circle ride gables lodge side terminal hatch tye
    glade glen hollow boulevard promenade parkway highway bridge north south east west upper lower
    area supermarket station subway nightclub space hospital building airport/airfield centre prison location
    club school college university church theatre/concert hall hotel pub car park garage
    """.split()
)
_ROAD_NUMBER = re.compile(r"^[ABM]\d{1,4}(?:\(M\))?$")
_WORD = re.compile(r"[A-Za-z][A-Za-z'/-]*|\d+")
_HOUSE_NUMBER = re.compile(r"^(?:flat|apartment|unit|no\.?)?\s*\d+[a-z]?\b[\s,]*", re.IGNORECASE)
_ON_OR_NEAR = re.compile(r"^on or near\s+", re.IGNORECASE)


@dataclass(frozen=True)
class Scrubbed:
    """The text that may be published (None: nothing may), and what was cut out of it, by kind."""

    text: str | None
    removed: Counter[str]


def redact_identifiers(text: str) -> tuple[str, Counter[str]]:
    """`text` with every identifier-shaped part replaced by a marker, and the count removed of each kind."""
    removed: Counter[str] = Counter()
    if _MAY_IDENTIFY.search(text) is None:  # most place names: one scan instead of seven
        return text, removed
    for kind, pattern in _IDENTIFIERS:
        text, count = pattern.subn(f" {REDACTED} ", text)
        if count:
            removed[kind] += count
    return text, removed


_MARKER = "REDACTEDMARKER"


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
        return None  # an identifier inside a place description: drop the whole description
    cleaned = " ".join(text.split())
    prefix = "On or near " if _ON_OR_NEAR.match(cleaned) else ""
    place = _ON_OR_NEAR.sub("", cleaned)
    while (shorter := _HOUSE_NUMBER.sub("", place, count=1)) != place:  # "Flat 3, 12 ..." has two numbers
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


def scrub(text: str, policy: FreeTextPolicy, vocabulary: frozenset[str] | None = None) -> Scrubbed:
    """What of `text` may be published under `policy`."""
    redacted, removed = redact_identifiers(text)
    if policy == "street":
        return Scrubbed(_street(redacted, removed), removed)
    return Scrubbed(_vocabulary(redacted, vocabulary or DEFAULT_VOCABULARY, removed), removed)


REMEMBERED_CHARS = 200  # texts up to this long (place names, short descriptions) are scrubbed once per process


@lru_cache(maxsize=8192)
def _remembered(text: str, policy: FreeTextPolicy, vocabulary: frozenset[str] | None) -> str | None:
    return scrub(text, policy, vocabulary).text


def scrubbed_text(text: str, policy: FreeTextPolicy, vocabulary: frozenset[str] | None = None) -> str | None:
    """`scrub(text, policy, vocabulary).text`; remembered for short texts, which repeat (police.uk snaps places to a
    few thousand points per force)."""
    if len(text) <= REMEMBERED_CHARS:
        return _remembered(text, policy, vocabulary)
    return scrub(text, policy, vocabulary).text
