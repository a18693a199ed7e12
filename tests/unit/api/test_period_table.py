"""`period_table`: monthly cells summed into the reported periods, checked against sums worked out here."""

from __future__ import annotations

from datetime import date

from api.aggregate_query import make_params, period_table
from sharing_protocols.cell_key_release import KeyedCount
from sharing_protocols.periods import PeriodType, periods
from sharing_protocols.perturbation import RECORD_KEY_MODULUS
from warehouse.queries.aggregates import Cell, Level

NEAR = RECORD_KEY_MODULUS - 5  # two such keys sum past the modulus


def test_months_are_keyed_by_area_and_month_with_the_cell_key_reduced() -> None:
    params = make_params(["police-uk-street"], "2024-01", "2024-02", Level.ward, PeriodType.month, None, None, None,
                         None, None, "json")  # fmt: skip
    cells = [
        Cell("W1", "burglary", None, date(2024, 1, 1), 3, NEAR),
        Cell("W1", "robbery", None, date(2024, 1, 1), 2, NEAR),  # the same ward and month: summed, the key wraps
        Cell("W2", "burglary", None, date(2024, 2, 1), 4, 11),
        Cell("W2", "burglary", None, date(2023, 12, 1), 9, 13),  # outside the periods: left out
    ]
    table = period_table(params, cells, periods(PeriodType.month, params.start, params.end))
    assert table == {
        ("W1", "2024-01"): KeyedCount(5, 2 * NEAR - RECORD_KEY_MODULUS),
        ("W2", "2024-02"): KeyedCount(4, 11),
    }
    assert list(table) == [("W1", "2024-01"), ("W2", "2024-02")]  # in the order the cells first reach them


def test_a_month_counts_in_every_rolling_period_it_falls_in_by_category() -> None:
    params = make_params(["police-uk-street"], "2024-12", "2025-02", Level.ward, PeriodType.rolling_12,
                         ["category"], None, None, None, None, "json")  # fmt: skip
    found = periods(PeriodType.rolling_12, params.start, params.end)
    assert [p.label for p in found] == ["12 months to 2024-12", "12 months to 2025-01", "12 months to 2025-02"]
    cells = [
        Cell("W1", "burglary", None, date(2024, 1, 1), 1, 100),  # only in the first period
        Cell("W1", "burglary", None, date(2024, 3, 1), 2, NEAR),  # in all three
        Cell("W1", "robbery", None, date(2025, 2, 1), 7, NEAR),  # only in the last
        Cell("W1", "burglary", None, date(2025, 2, 1), 4, 10),  # only in the last
    ]
    assert period_table(params, cells, found) == {
        ("W1", "burglary", "12 months to 2024-12"): KeyedCount(3, (100 + NEAR) % RECORD_KEY_MODULUS),
        ("W1", "burglary", "12 months to 2025-01"): KeyedCount(2, NEAR),
        ("W1", "burglary", "12 months to 2025-02"): KeyedCount(6, (NEAR + 10) % RECORD_KEY_MODULUS),
        ("W1", "robbery", "12 months to 2025-02"): KeyedCount(7, NEAR),
    }
