"""UK postcode normalisation, sector and district (pure functions, no I/O).

The canonical form is upper case with one space before the three-character inward code ("BN21 4UH");
`compact` drops the space ("BN214UH") and is the warehouse key. Anything that is not shaped like a UK postcode
(outward code A9, A99, A9A, AA9, AA99 or AA9A; inward code 9AA) normalises to None.
"""

from __future__ import annotations

import re

_SHAPE = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})")
_OUTWARD = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]?")
_SPACES = re.compile(r"\s+")
_SPECIAL = {"GIR0AA": ("GIR", "0AA")}  # Girobank: the one postcode outside the pattern


def _parts(postcode: str) -> tuple[str, str] | None:
    packed = _SPACES.sub("", postcode).upper()
    if packed in _SPECIAL:
        return _SPECIAL[packed]
    match = _SHAPE.fullmatch(packed)
    return (match.group(1), match.group(2)) if match else None


def normalise(postcode: str) -> str | None:
    """'bn214uh', 'BN21  4UH', ' bn21 4uh ' -> 'BN21 4UH'; None when it is not a postcode."""
    parts = _parts(postcode)
    return f"{parts[0]} {parts[1]}" if parts else None


def compact(postcode: str) -> str | None:
    """The normalised postcode without its space ('BN214UH'), the warehouse key; None when invalid."""
    parts = _parts(postcode)
    return parts[0] + parts[1] if parts else None


def sector(postcode: str) -> str | None:
    """The postcode sector: outward code, space, first inward digit ('BN21 4'); None when invalid."""
    parts = _parts(postcode)
    return f"{parts[0]} {parts[1][0]}" if parts else None


def district(postcode: str) -> str | None:
    """The postcode district, i.e. the outward code ('BN21'); None when invalid."""
    parts = _parts(postcode)
    return parts[0] if parts else None


def outward(code: str) -> str | None:
    """An outward code alone, upper case without spaces ('bn21' -> 'BN21'); None when not shaped like one."""
    packed = _SPACES.sub("", code).upper()
    return packed if _OUTWARD.fullmatch(packed) else None
