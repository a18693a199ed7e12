"""The bounds every request's work is held to, checked at the edge of each route (a 400 that states the bound).

Months and dates must fall in `FIRST_YEAR`..`LAST_YEAR`; a month range (`from`/`to`, an OGC `datetime`
interval) may span at most `MAX_SPAN_YEARS` years; a day count (`within_days`, `late_days`) at most `MAX_DAYS`.
A count table released under a threshold rule may have at most `MAX_SUPPRESSED_TABLE_CELLS` cells (its secondary
suppression grows faster than the table; `check_table_cells`).
"""

from __future__ import annotations

from datetime import date

from api.errors import BadRequest

FIRST_YEAR = 1900
LAST_YEAR = 2100
MAX_SPAN_YEARS = 15
MAX_SPAN_MONTHS = MAX_SPAN_YEARS * 12
MAX_DAYS = 36_600  # about a century
MAX_SUPPRESSED_TABLE_CELLS = 10_000  # e.g. every LSOA of three police forces for three months
FIRST_DAY = date(FIRST_YEAR, 1, 1)
LAST_DAY = date(LAST_YEAR, 12, 31)


def check_year(name: str, year: int) -> None:
    """BadRequest unless `year` is within the years the API answers for."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise BadRequest(f"{name} must be within the years {FIRST_YEAR} to {LAST_YEAR}")


def check_day(name: str, day: date) -> date:
    """`day`, or BadRequest when its year is out of bounds."""
    check_year(name, day.year)
    return day


def check_span(start: date, end: date, what: str = "from..to") -> None:
    """BadRequest when the months `start`..`end` span more than `MAX_SPAN_YEARS` years."""
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    if months > MAX_SPAN_MONTHS:
        raise BadRequest(
            f"{what} spans {months} months; at most {MAX_SPAN_YEARS} years ({MAX_SPAN_MONTHS}) are allowed"
        )


def check_table_cells(cells: int) -> None:
    """BadRequest when a count table to be released under a threshold rule has more than
    `MAX_SUPPRESSED_TABLE_CELLS` cells (the message does not say how many: that is a count of areas with events)."""
    if cells > MAX_SUPPRESSED_TABLE_CELLS:
        raise BadRequest(
            f"the answer would have more than {MAX_SUPPRESSED_TABLE_CELLS} figures, the most released under a "
            "threshold rule in one answer: ask for fewer areas, periods, categories or datasets"
        )
