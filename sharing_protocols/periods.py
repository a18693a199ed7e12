"""Calendar arithmetic on months, and reporting periods made of months.

Months: a month written YYYY-MM, the first (or the same) day some months on, a whole month as an occurrence period.
Reporting periods: month, calendar quarter, financial year (April-March), rolling 12 months, all. A query's
from/to months widen to whole periods (a quarter or financial year is never reported in part); rolling
12-month periods end at each month from `from` to `to`, so they reach back 11 months before `from`.
"""

from __future__ import annotations

import calendar
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

MONTH_FORMAT = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")  # a month written YYYY-MM


def parse_month(text: str) -> tuple[int, int]:
    """'2024-05' -> (2024, 5); ValueError when not YYYY-MM."""
    match = MONTH_FORMAT.match(text)
    if not match:
        raise ValueError("must be a month as YYYY-MM")
    return int(match.group(1)), int(match.group(2))


def add_months(day: date, months: int) -> date:
    """The first day of the month `months` after (or before) `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def shift_months(day: date, months: int) -> date:
    """The same day of the month `months` after (or before) `day`'s month, or that month's last day if sooner."""
    month = add_months(day, months)
    return month.replace(day=min(day.day, calendar.monthrange(month.year, month.month)[1]))


def month_period(year: int, month: int) -> dict[str, object]:
    """A whole calendar month, as the fields of an OccurrencePeriod."""
    return {
        "start": date(year, month, 1),
        "end": date(year, month, calendar.monthrange(year, month)[1]),
        "precision": "month",
    }


class PeriodType(StrEnum):
    """How months are grouped into reported periods."""

    month = "month"
    quarter = "quarter"
    financial_year = "financial_year"
    rolling_12 = "rolling_12"
    all = "all"


def months_between(first: date, last: date) -> list[date]:
    """Every month from `first` to `last` inclusive (as day 1)."""
    count = (last.year - first.year) * 12 + last.month - first.month + 1
    return [add_months(first, i) for i in range(max(count, 0))]


def financial_year(month: date) -> str:
    """The April-March financial year of a month, as "2024/25"."""
    start = month.year if month.month >= 4 else month.year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def financial_year_start(label: str) -> date:
    """April of a financial year labelled "2024/25"."""
    return date(int(label[:4]), 4, 1)


@dataclass(frozen=True)
class Period:
    """One reported period: its kind and its first and last month."""

    kind: PeriodType
    first: date
    last: date

    @property
    def label(self) -> str:
        if self.kind is PeriodType.month:
            return f"{self.first:%Y-%m}"
        if self.kind is PeriodType.quarter:
            return f"{self.first.year}-Q{(self.first.month - 1) // 3 + 1}"
        if self.kind is PeriodType.financial_year:
            return financial_year(self.first)
        if self.kind is PeriodType.rolling_12:
            return f"12 months to {self.last:%Y-%m}"
        return f"{self.first:%Y-%m} to {self.last:%Y-%m}"

    @property
    def months(self) -> list[date]:
        return months_between(self.first, self.last)

    def shifted(self, months: int) -> Period:
        """The period of the same kind `months` earlier or later (-12: the same period last year)."""
        return Period(self.kind, add_months(self.first, months), add_months(self.last, months))

    def previous(self) -> Period:
        """The period of the same length just before this one (a rolling 12 months: the 12 months before)."""
        return self.shifted(-len(self.months))


def _start_of(kind: PeriodType, month: date) -> date:
    if kind is PeriodType.quarter:
        return date(month.year, (month.month - 1) // 3 * 3 + 1, 1)
    if kind is PeriodType.financial_year:
        return financial_year_start(financial_year(month))
    return month


_LENGTH = {PeriodType.month: 1, PeriodType.quarter: 3, PeriodType.financial_year: 12}


def periods(kind: PeriodType, start: date, end: date) -> list[Period]:
    """The periods of `kind` covering the months `start`..`end` (widened to whole periods)."""
    if kind is PeriodType.all:
        return [Period(kind, start, end)]
    if kind is PeriodType.rolling_12:
        return [Period(kind, add_months(m, -11), m) for m in months_between(start, end)]
    length = _LENGTH[kind]
    found: list[Period] = []
    first = _start_of(kind, start)
    while first <= end:
        last = add_months(first, length - 1)
        found.append(Period(kind, first, last))
        first = add_months(first, length)
    return found


def month_index(found: Sequence[Period]) -> dict[date, list[str]]:
    """For each month, the labels of the periods it belongs to (a month is in up to 12 rolling periods)."""
    index: dict[date, list[str]] = defaultdict(list)
    for period in found:
        for month in period.months:
            index[month].append(period.label)
    return dict(index)


def span(found: Sequence[Period]) -> tuple[date, date]:
    """The first and last month the periods need."""
    return min(p.first for p in found), max(p.last for p in found)
