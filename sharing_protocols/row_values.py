"""Month values as the contract writes them (YYYY-MM)."""

from __future__ import annotations

import re

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(text: str) -> tuple[int, int]:
    """'2024-05' -> (2024, 5); ValueError when not YYYY-MM."""
    match = _MONTH.match(text)
    if not match:
        raise ValueError("must be a month as YYYY-MM")
    return int(match.group(1)), int(match.group(2))
