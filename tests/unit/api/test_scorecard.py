"""Scorecard rows: RAG against the financial year's target, direction of travel, reporting windows (hand-computed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from api.scorecard import (
    Figure,
    Window,
    direction_of_travel,
    rag,
    reporting_window,
    scorecard_row,
)
from warehouse.reference.indicator_registry import Indicator, build_indicator

EASTBOURNE, HASTINGS, LEWES = "E22000295", "E22000296", "E22000298"


def _indicator(**changes: Any) -> Indicator:
    document: dict[str, Any] = {
        "id": "all-crime",
        "title": "All crime",
        "definition": "Crimes in 12 months.",
        "owner": "east-sussex-csp",
        "dataset": "police-uk-street",
        "measure": "count",
        "direction": "lower_is_better",
        "baseline": {"year": "2023/24", "value": 1000},
        "targets": {"2025/26": 100, "2026/27": 90},
        "area_targets": {EASTBOURNE: {"2025/26": 80}},
        "tolerance_pct": 5,
        "data_lag_months": 2,
        "provisional_months": 3,
    }
    return build_indicator({**document, **changes}, "test")


@dataclass(frozen=True)
class Verdict:
    significant: bool


class FakeTest:
    """A significance test that answers as told and records what it was asked."""

    def __init__(self, significant: bool) -> None:
        self.significant = significant
        self.calls: list[tuple[int, int]] = []

    def __call__(self, current: int, base: int) -> Verdict:
        self.calls.append((current, base))
        return Verdict(self.significant)


def _refuse(current: int, base: int) -> Verdict:
    raise AssertionError("the test statistic should not have been computed")


# Lower is better, target 100, 5% tolerance: green up to 100, amber up to 105 (100 + 5% of 100), red above.
@pytest.mark.parametrize(
    ("actual", "expected"),
    [(0, "green"), (90, "green"), (100, "green"), (100.0001, "amber"), (105, "amber"), (105.0001, "red"), (200, "red")],
)
def test_rag_when_lower_is_better(actual: float, expected: str) -> None:
    assert rag(actual, 100, "lower_is_better", 5) == expected


# Higher is better, target 46, 10% tolerance: green from 46, amber down to 41.4 (46 - 4.6), red below.
@pytest.mark.parametrize(
    ("actual", "expected"),
    [(60, "green"), (46, "green"), (45.99, "amber"), (41.4, "amber"), (41.39, "red"), (0, "red")],
)
def test_rag_when_higher_is_better(actual: float, expected: str) -> None:
    assert rag(actual, 46, "higher_is_better", 10) == expected


def test_rag_edges_are_the_decimals_written() -> None:
    # 33.8 + 5% = 35.49 exactly; in binary floating point 33.8 * 1.05 is 35.49000000000001, and 35.49 - 33.8 is
    # 1.6900000000000013 > 1.69, so a float comparison would call the edge red.
    assert 35.49 - 33.8 > 0.05 * 33.8
    assert rag(35.49, 33.8, "lower_is_better", 5) == "amber"
    assert rag(35.491, 33.8, "lower_is_better", 5) == "red"
    # 0% tolerance: any miss is red.
    assert rag(100.5, 100, "lower_is_better", 0) == "red"
    assert rag(100, 100, "lower_is_better", 0) == "green"


def test_no_target_is_grey_and_a_zero_target_has_no_amber_band() -> None:
    assert rag(50, None, "lower_is_better", 5) == "grey"
    assert rag(0, 0, "lower_is_better", 5) == "green"
    assert rag(1, 0, "lower_is_better", 5) == "red"


def test_reporting_window_is_12_months_ending_the_data_lag_before_the_latest_month() -> None:
    indicator = _indicator()  # 2 months' lag, the latest 3 months provisional
    window = reporting_window(indicator, date(2026, 6, 17))
    assert (window.start, window.end) == (date(2025, 5, 1), date(2026, 4, 1))
    assert (window.previous_start, window.previous_end) == (date(2024, 5, 1), date(2025, 4, 1))
    assert window.provisional  # April, May and June 2026 are provisional; the window ends in April
    assert not reporting_window(_indicator(data_lag_months=3), date(2026, 6, 1)).provisional  # ends in March
    assert not reporting_window(_indicator(data_lag_months=0, provisional_months=0), date(2026, 6, 1)).provisional
    assert reporting_window(_indicator(data_lag_months=0, provisional_months=1), date(2026, 6, 1)).provisional
    lagless = reporting_window(_indicator(data_lag_months=0), date(2026, 1, 1))
    assert (lagless.start, lagless.end) == (date(2025, 2, 1), date(2026, 1, 1))


# 95 events against the year's target: green against 100; red against 90 (misses by 5 > 5% of 90 = 4.5).
@pytest.mark.parametrize(
    ("latest", "end", "year", "target", "expected"),
    [
        (date(2026, 5, 1), date(2026, 3, 1), "2025/26", 100.0, "green"),  # March closes 2025/26
        (date(2026, 6, 1), date(2026, 4, 1), "2026/27", 90.0, "red"),  # April opens 2026/27
        (date(2027, 5, 1), date(2027, 3, 1), "2026/27", 90.0, "red"),
        (date(2027, 6, 1), date(2027, 4, 1), "2027/28", None, "grey"),  # no target set for 2027/28
        (date(2025, 6, 1), date(2025, 4, 1), "2025/26", 100.0, "green"),
        (date(2025, 5, 1), date(2025, 3, 1), "2024/25", None, "grey"),
    ],
)
def test_the_target_is_that_of_the_financial_year_of_the_period_end(
    latest: date, end: date, year: str, target: float | None, expected: str
) -> None:
    indicator = _indicator()
    row = scorecard_row(indicator, LEWES, reporting_window(indicator, latest), Figure(95, 95), None)
    assert (row.period_end, row.financial_year, row.target, row.rag) == (end, year, target, expected)


def test_an_area_override_takes_precedence_for_its_year_only() -> None:
    indicator = _indicator()
    window_2025 = Window(date(2025, 4, 1), date(2026, 3, 1), provisional=False)
    window_2026 = Window(date(2025, 5, 1), date(2026, 4, 1), provisional=False)
    eastbourne = scorecard_row(indicator, EASTBOURNE, window_2025, Figure(83, 83), None)
    assert (eastbourne.target, eastbourne.target_is_area_override) == (80.0, True)
    assert eastbourne.rag == "amber"  # 83 misses 80 by 3, within 5% of 80 (4)
    hastings = scorecard_row(indicator, HASTINGS, window_2025, Figure(83, 83), None)
    assert (hastings.target, hastings.target_is_area_override, hastings.rag) == (100.0, False, "green")
    later = scorecard_row(indicator, EASTBOURNE, window_2026, Figure(83, 83), None)
    assert (later.target, later.target_is_area_override, later.rag) == (90.0, False, "green")


@pytest.mark.parametrize(
    ("direction", "actual", "previous", "significant", "expected"),
    [
        ("lower_is_better", 90, 100, True, "improving"),
        ("lower_is_better", 110, 100, True, "worsening"),
        ("higher_is_better", 90, 100, True, "worsening"),
        ("higher_is_better", 110, 100, True, "improving"),
        ("lower_is_better", 90, 100, False, "no significant change"),
        ("higher_is_better", 110, 100, False, "no significant change"),
        ("higher_is_better", 100, 100, True, "no significant change"),
    ],
)
def test_direction_of_travel(direction: Any, actual: float, previous: float, significant: bool, expected: str) -> None:
    assert direction_of_travel(direction, actual, previous, significant) == expected


WINDOW = Window(date(2025, 4, 1), date(2026, 3, 1), provisional=True)


def test_a_row_tests_the_event_counts_with_the_injected_test() -> None:
    test = FakeTest(significant=True)
    row = scorecard_row(_indicator(), HASTINGS, WINDOW, Figure(96, 96), Figure(120, 120), compare=test)
    assert test.calls == [(96, 120)]
    assert (row.actual, row.previous, row.change) == (96, 120, -24)
    assert row.change_pct == pytest.approx(-20.0)  # -24 / 120
    assert (row.significant, row.direction_of_travel, row.rag) == (True, "improving", "green")
    assert row.provisional
    assert (row.indicator_id, row.area_code, row.period_start, row.measure) == (
        "all-crime",
        HASTINGS,
        date(2025, 4, 1),
        "count",
    )
    quiet = scorecard_row(_indicator(), HASTINGS, WINDOW, Figure(96, 96), Figure(120, 120), compare=FakeTest(False))
    assert (quiet.significant, quiet.direction_of_travel) == (False, "no significant change")


def test_a_higher_is_better_rate_that_fell_significantly_is_worsening() -> None:
    indicator = _indicator(
        measure="rate",
        denominator={"sex": "female", "age_band": "16-64", "per": 1000},
        direction="higher_is_better",
        targets={"2025/26": 46},
        area_targets={},
        tolerance_pct=10,
    )
    # 1,200 events in 30,000 women = 40.0 per 1,000 (last year 1,500 = 50.0): misses 46 by 6 > 4.6, so red.
    row = scorecard_row(indicator, HASTINGS, WINDOW, Figure(40.0, 1200), Figure(50.0, 1500), compare=FakeTest(True))
    assert (row.rag, row.direction_of_travel, row.target) == ("red", "worsening", 46.0)
    assert row.change_pct == pytest.approx(-20.0)


def test_a_given_p_value_is_used_instead_of_the_test() -> None:
    row = scorecard_row(_indicator(), HASTINGS, WINDOW, Figure(96, 96), Figure(120, 120), p_value=0.01, compare=_refuse)
    assert (row.significant, row.direction_of_travel) == (True, "improving")
    edge = scorecard_row(
        _indicator(), HASTINGS, WINDOW, Figure(96, 96), Figure(120, 120), p_value=0.05, compare=_refuse
    )
    assert (edge.significant, edge.direction_of_travel) == (False, "no significant change")  # p < alpha, strictly


def test_a_rate_moving_against_its_count_is_no_significant_change() -> None:
    # The rate fell (population grew) while the events rose: the count test says nothing about the rate's fall.
    row = scorecard_row(_indicator(), HASTINGS, WINDOW, Figure(30.0, 3300), Figure(31.0, 3000), compare=_refuse)
    assert (row.significant, row.direction_of_travel) == (False, "no significant change")


def test_without_a_previous_figure_there_is_no_direction_of_travel() -> None:
    row = scorecard_row(_indicator(), HASTINGS, WINDOW, Figure(96, 96), None, compare=_refuse)
    assert (row.previous, row.change, row.change_pct, row.significant, row.direction_of_travel) == (
        None,
        None,
        None,
        None,
        None,
    )
    from_zero = scorecard_row(_indicator(), HASTINGS, WINDOW, Figure(12, 12), Figure(0, 0), compare=FakeTest(True))
    assert (from_zero.change, from_zero.change_pct, from_zero.direction_of_travel) == (12, None, "worsening")


def test_the_default_test_is_the_exact_poisson_comparison() -> None:
    # 150 against 100 events: under equal rates 150 of 250 ~ Binomial(250, 0.5), mean 125, sd 7.9; 150 is 3.2 sd
    # above, p ~ 0.002 < 0.05. 105 against 100: 0.35 sd, clearly not significant.
    big = scorecard_row(_indicator(), HASTINGS, WINDOW, Figure(150, 150), Figure(100, 100))
    small = scorecard_row(_indicator(), HASTINGS, WINDOW, Figure(105, 105), Figure(100, 100))
    assert (big.direction_of_travel, small.direction_of_travel) == ("worsening", "no significant change")
