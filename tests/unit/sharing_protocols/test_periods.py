"""Month arithmetic and reporting periods: months written YYYY-MM, months on, quarters, financial years, rolling."""

from __future__ import annotations

from datetime import date

import pytest

from sharing_protocols.periods import (
    Period,
    PeriodType,
    add_months,
    financial_year,
    financial_year_start,
    month_index,
    month_period,
    months_between,
    parse_month,
    periods,
    shift_months,
    span,
)


@pytest.mark.parametrize(("text", "month"), [("2024-05", (2024, 5)), ("1999-12", (1999, 12)), ("2030-01", (2030, 1))])
def test_a_month_is_read_from_yyyy_mm(text: str, month: tuple[int, int]) -> None:
    assert parse_month(text) == month


@pytest.mark.parametrize("text", ["2024-13", "2024-00", "2024-5", "24-05", "2024-05-01", "May 2024", ""])
def test_anything_but_yyyy_mm_is_not_a_month(text: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        parse_month(text)


@pytest.mark.parametrize(
    ("day", "months", "first"),
    [
        (date(2024, 5, 17), 0, date(2024, 5, 1)),
        (date(2024, 11, 30), 2, date(2025, 1, 1)),
        (date(2024, 1, 31), -1, date(2023, 12, 1)),
        (date(2024, 3, 1), -27, date(2021, 12, 1)),
    ],
)
def test_add_months_gives_the_first_day_of_the_month_reached(day: date, months: int, first: date) -> None:
    assert add_months(day, months) == first


@pytest.mark.parametrize(
    ("day", "months", "same_day"),
    [
        (date(2026, 1, 15), 1, date(2026, 2, 15)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),  # February is shorter: its last day
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # a leap year
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2027, 12, 15), 13, date(2029, 1, 15)),
    ],
)
def test_shift_months_keeps_the_day_or_takes_the_months_last(day: date, months: int, same_day: date) -> None:
    assert shift_months(day, months) == same_day


def test_a_month_period_spans_the_whole_month() -> None:
    assert month_period(2024, 2) == {"start": date(2024, 2, 1), "end": date(2024, 2, 29), "precision": "month"}
    assert month_period(2023, 12)["end"] == date(2023, 12, 31)


def test_months_between_lists_each_month_inclusive() -> None:
    assert months_between(date(2024, 11, 1), date(2025, 2, 1)) == [
        date(2024, 11, 1),
        date(2024, 12, 1),
        date(2025, 1, 1),
        date(2025, 2, 1),
    ]
    assert months_between(date(2025, 2, 1), date(2024, 11, 1)) == []


@pytest.mark.parametrize(
    ("month", "label"),
    [(date(2024, 3, 1), "2023/24"), (date(2024, 4, 1), "2024/25"), (date(1999, 12, 1), "1999/00")],
)
def test_the_financial_year_runs_april_to_march(month: date, label: str) -> None:
    assert financial_year(month) == label
    assert financial_year_start(label) == date(int(label[:4]), 4, 1)


def test_quarters_widen_to_whole_quarters() -> None:
    found = periods(PeriodType.quarter, date(2024, 2, 1), date(2024, 4, 1))
    assert [(p.label, p.first, p.last) for p in found] == [
        ("2024-Q1", date(2024, 1, 1), date(2024, 3, 1)),
        ("2024-Q2", date(2024, 4, 1), date(2024, 6, 1)),
    ]
    assert span(found) == (date(2024, 1, 1), date(2024, 6, 1))


def test_financial_years_widen_to_april_to_march() -> None:
    found = periods(PeriodType.financial_year, date(2024, 3, 1), date(2024, 4, 1))
    assert [p.label for p in found] == ["2023/24", "2024/25"]
    assert span(found) == (date(2023, 4, 1), date(2025, 3, 1))


def test_rolling_periods_end_at_each_month_and_reach_back_eleven() -> None:
    found = periods(PeriodType.rolling_12, date(2024, 5, 1), date(2024, 6, 1))
    assert [p.label for p in found] == ["12 months to 2024-05", "12 months to 2024-06"]
    assert span(found) == (date(2023, 6, 1), date(2024, 6, 1))
    index = month_index(found)
    assert index[date(2023, 6, 1)] == ["12 months to 2024-05"]
    assert index[date(2024, 5, 1)] == ["12 months to 2024-05", "12 months to 2024-06"]
    assert index[date(2024, 6, 1)] == ["12 months to 2024-06"]


def test_months_and_all() -> None:
    assert [p.label for p in periods(PeriodType.month, date(2024, 12, 1), date(2025, 1, 1))] == ["2024-12", "2025-01"]
    (whole,) = periods(PeriodType.all, date(2024, 12, 1), date(2025, 3, 1))
    assert whole.label == "2024-12 to 2025-03"


def test_the_same_period_last_year_and_the_one_before() -> None:
    quarter = Period(PeriodType.quarter, date(2024, 4, 1), date(2024, 6, 1))
    assert quarter.shifted(-12) == Period(PeriodType.quarter, date(2023, 4, 1), date(2023, 6, 1))
    assert quarter.previous().label == "2024-Q1"
    rolling = Period(PeriodType.rolling_12, date(2023, 7, 1), date(2024, 6, 1))
    assert rolling.previous() == Period(PeriodType.rolling_12, date(2022, 7, 1), date(2023, 6, 1))
