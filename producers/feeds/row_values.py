"""Value parsing shared by the feed modules: blanks, slugs, periods (month or quarter), age bands, postcodes."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from sharing_protocols.envelope import OccurrencePeriod
from sharing_protocols.periods import month_period, parse_month
from sharing_protocols.postcode_format import outward

_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_POSTCODE = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})\b")

# Age bands as CSP strategic assessments use them (children, young people, adults by decade).
AGE_BANDS: tuple[tuple[int, str], ...] = (
    (0, "0-9"),
    (10, "10-15"),
    (16, "16-17"),
    (18, "18-24"),
    (25, "25-34"),
    (35, "35-44"),
    (45, "45-54"),
    (55, "55-64"),
    (65, "65+"),
)


def blank_to_none(value: object) -> object:
    """An empty or all-space source value as None (pydantic `mode="before"` validators use this)."""
    return None if isinstance(value, str) and value.strip() == "" else value


def slug(text: str) -> str:
    """A label as a lower-case slug ("Violence with injury" -> "violence-with-injury")."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower().replace("'", "")).strip("-")


def check_month(text: str) -> str:
    """`text` when it is a month as YYYY-MM; ValueError otherwise."""
    parse_month(text)
    return text


def check_coordinate_pair(x: float | None, y: float | None, x_name: str, y_name: str) -> None:
    """ValueError naming the missing one when exactly one of a point's two coordinates is given."""
    if (x is None) != (y is None):
        missing = y_name if y is None else x_name
        raise ValueError(f"{missing} is missing while the other coordinate is given")


@lru_cache(maxsize=1024)
def month_occurrence(text: str) -> OccurrencePeriod:
    """A month written YYYY-MM as an event's occurrence period (made once per month: events share it)."""
    return OccurrencePeriod.month(*parse_month(text))


def check_period(text: str) -> str:
    """`text` when it is a month (YYYY-MM) or a calendar quarter (YYYY-Qn); ValueError otherwise."""
    if not _QUARTER.match(text):
        try:
            parse_month(text)
        except ValueError:
            raise ValueError("must be a month as YYYY-MM or a calendar quarter as YYYY-Qn") from None
    return text


def period(text: str) -> dict[str, object]:
    """The OccurrencePeriod fields of a month (YYYY-MM) or calendar quarter (YYYY-Qn: Q1 = January to March).

    A quarter has precision "month": it spans whole months, from the first day of its first to the last day of
    its third.
    """
    quarter = _QUARTER.match(check_period(text))
    if quarter:
        year, first = int(quarter.group(1)), 3 * int(quarter.group(2)) - 2
        return {**month_period(year, first), "end": month_period(year, first + 2)["end"]}
    return month_period(*parse_month(text))


def age_band(born: date, on: date) -> str:
    """The age band of someone born on `born`, on the day `on` (never the birth date itself)."""
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    if age < 0:
        raise ValueError("is after the event date")
    return [label for lower, label in AGE_BANDS if age >= lower][-1]


def full_postcode(text: str | None) -> str | None:
    """The first full UK postcode in `text`, normalised ('bn21 4uh' -> 'BN21 4UH'), or None."""
    if text is None:
        return None
    match = _POSTCODE.search(text.upper())
    return f"{match.group(1)} {match.group(2)}" if match else None


def outward_code(text: str) -> str:
    """A postcode's outward code (e.g. 'BN21'), upper-cased; ValueError when it is not shaped like one."""
    code = outward(text)
    if code is None:
        raise ValueError("must be a postcode outward code such as BN21")
    return code
