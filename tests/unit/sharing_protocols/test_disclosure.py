"""Disclosure control: the rule chosen for a query, the laxest clause, and tables protected against small counts and
margin attacks."""

from __future__ import annotations

import itertools
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from sharing_protocols.disclosure import (
    DEFAULT_RULE,
    DisclosureControl,
    Key,
    ProtectedTable,
    Rule,
    protect,
    protect_value,
    released_rate,
    rule_for,
)
from tests.support.disclosure_attack import attack_table, margin_attack

EXACT = Rule(min_cell_count=8, round_to=1)  # suppression only: the hardest case for secondary suppression


def nearest(count: int, step: int) -> int:
    """Rounding to the nearest multiple, halves up, done with decimals."""
    return int((Decimal(count) / step).quantize(Decimal(1), rounding=ROUND_HALF_UP)) * step


# --- which rule applies -------------------------------------------------------------------------------------


def test_no_clause_rule_means_the_nhs_rule() -> None:
    assert rule_for([]) == DEFAULT_RULE
    rule = rule_for([("isp@1#a", None), ("isp@2#b", None)])
    assert (rule.min_cell_count, rule.round_to, rule.source, rule.clauses) == (8, 5, "default", ())


def test_a_clause_rule_overrides_the_default() -> None:
    rule = rule_for([("isp@1#a", DisclosureControl(min_cell_count=3, round_to=1))])
    assert (rule.min_cell_count, rule.round_to, rule.source, rule.clauses) == (3, 1, "protocol", ("isp@1#a",))


def test_several_clauses_take_the_strictest_of_each_part() -> None:
    rule = rule_for(
        [
            ("isp@1#a", DisclosureControl(min_cell_count=10, round_to=1)),
            ("isp@1#b", DisclosureControl(min_cell_count=3, round_to=5)),
            ("isp@1#c", DisclosureControl(min_cell_count=2, round_to=1)),
        ]
    )
    assert (rule.min_cell_count, rule.round_to, rule.source) == (10, 5, "protocol")
    assert rule.clauses == ("isp@1#a", "isp@1#b")  # c set neither part


def test_a_clause_without_a_rule_brings_in_the_default() -> None:
    laxer = rule_for([("isp@1#a", DisclosureControl(min_cell_count=3, round_to=1)), ("isp@1#b", None)])
    assert laxer == DEFAULT_RULE
    rounder = rule_for([("isp@1#a", DisclosureControl(min_cell_count=6, round_to=10)), ("isp@1#b", None)])
    assert (rounder.min_cell_count, rounder.round_to, rounder.source) == (8, 10, "combined")
    assert rounder.clauses == ("isp@1#a",)


def test_each_rule_describes_itself() -> None:
    assert "1-7 are suppressed" in DEFAULT_RULE.describe()
    assert "nearest 5" in DEFAULT_RULE.describe()
    assert "NHS" in DEFAULT_RULE.describe()
    own = rule_for([("isp@1#a", DisclosureControl(min_cell_count=1, round_to=1))])
    assert "isp@1#a" in own.describe()
    assert "shown exactly" in own.describe()
    assert "suppressed" not in own.describe()


def test_impossible_rules_are_refused() -> None:
    with pytest.raises(ValueError):
        Rule(min_cell_count=0, round_to=1)
    with pytest.raises(ValueError):
        Rule(min_cell_count=2, round_to=10)  # 2 would be shown as 0


# --- single figures and rates ---------------------------------------------------------------------------------


@given(st.integers(0, 10_000), st.integers(1, 50), st.integers(1, 20))
def test_a_lone_figure_follows_the_protocol_rule(count: int, min_cell_count: int, round_to: int) -> None:
    round_to = min(round_to, 2 * min_cell_count)
    rule = Rule(min_cell_count, round_to)
    expected = 0 if count == 0 else None if count < min_cell_count else nearest(count, round_to)
    assert protect_value(count, rule) == expected
    clause = DisclosureControl(min_cell_count=min_cell_count, round_to=round_to)
    assert protect_value(count, rule_for([("isp@1#a", clause)])) == expected  # a clause's own rule, as written


@pytest.mark.parametrize(
    ("count", "shown"),
    [(0, 0), (1, None), (7, None), (8, 10), (12, 10), (13, 15), (17, 15), (18, 20), (100, 100)],
)
def test_disclosure_control_suppresses_1_to_7_and_rounds_to_5(count: int, shown: int | None) -> None:
    rule = rule_for([("isp@1#a", DisclosureControl(min_cell_count=8, round_to=5))])
    assert protect_value(count, rule) == shown


def test_disclosure_control_without_suppression_shows_counts_as_they_are() -> None:
    rule = rule_for([("isp@1#a", DisclosureControl(min_cell_count=1))])
    assert [protect_value(n, rule) for n in range(4)] == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="negative"):
        protect_value(-1, rule)


def test_disclosure_control_refuses_rules_that_round_a_shown_count_to_zero() -> None:
    with pytest.raises(ValidationError, match="half of round_to"):
        DisclosureControl(min_cell_count=2, round_to=5)


def test_the_default_rule_on_lone_figures() -> None:
    assert [protect_value(n, DEFAULT_RULE) for n in (0, 1, 7, 8, 12, 13, 17, 18)] == [0, None, None, 10, 10, 15, 15, 20]
    with pytest.raises(ValueError):
        protect_value(-1, DEFAULT_RULE)


def test_rates_use_the_released_count() -> None:
    assert released_rate(protect_value(12, DEFAULT_RULE), 2_000) == pytest.approx(5.0)  # 10 per 2000, not 12
    assert released_rate(protect_value(5, DEFAULT_RULE), 2_000) is None
    assert released_rate(10, 0) is None
    assert released_rate(15, 3_000, per=100_000) == pytest.approx(500.0)


# --- hand-made tables -----------------------------------------------------------------------------------------


def test_a_table_without_small_counts_is_only_rounded() -> None:
    table = protect({("A", "x"): 12, ("A", "y"): 13, ("B", "x"): 8, ("B", "y"): 0}, DEFAULT_RULE)
    assert table.cells == {("A", "x"): 10, ("A", "y"): 15, ("B", "x"): 10, ("B", "y"): 0}
    assert table.margins == ({"A": 25, "B": 10}, {"x": 20, "y": 15})
    assert table.total == 35  # 33
    assert (table.primary, table.secondary) == (0, 0)


def test_one_small_cell_of_two_by_two_hides_all_four() -> None:
    # Any released cell would give the small one away through its row or column total.
    table = protect({("A", "x"): 3, ("A", "y"): 20, ("B", "x"): 30, ("B", "y"): 40}, EXACT)
    assert set(table.cells.values()) == {None}
    assert table.margins == ({"A": 23, "B": 70}, {"x": 33, "y": 60})
    assert table.total == 93
    assert (table.primary, table.secondary) == (1, 3)


def test_the_cheapest_rectangle_is_hidden() -> None:
    # (A, x) needs partners in its row, its column and on the diagonal; column z's cells (10, 9, 12) are smaller
    # than column y's (50, 9, 60), so column y is released.
    cells: dict[Key, int] = {
        ("A", "x"): 2,
        ("A", "y"): 50,
        ("A", "z"): 10,
        ("B", "x"): 9,
        ("B", "y"): 60,
        ("B", "z"): 12,
    }
    table = protect(cells, EXACT)
    assert table.cells == {k: (v if k[1] == "y" else None) for k, v in cells.items()}
    assert table.margins == ({"A": 62, "B": 81}, {"x": 11, "y": 110, "z": 22})
    assert table.total == 143


def test_a_small_row_total_needs_another_row_total_hidden() -> None:
    # Row A's total (3) is small. Released with the other row totals and the grand total, A = total - B - C, so
    # B's (50, cheaper than C's 65) is hidden too, and B's cells with it, or B's total would be their sum.
    cells: dict[Key, int] = {
        ("A", "x"): 1,
        ("A", "y"): 2,
        ("B", "x"): 20,
        ("B", "y"): 30,
        ("C", "x"): 25,
        ("C", "y"): 40,
    }
    table = protect(cells, EXACT)
    assert table.cells == {k: (v if k[0] == "C" else None) for k, v in cells.items()}
    assert table.margins == ({"A": None, "B": None, "C": 65}, {"x": 46, "y": 72})
    assert table.total == 118
    assert (table.primary, table.secondary) == (3, 3)  # cells 1 and 2, row A; cells 20 and 30, row B


def test_a_one_dimensional_table_hides_a_second_value() -> None:
    table = protect({("A",): 3, ("B",): 20, ("C",): 31}, DEFAULT_RULE)
    assert table.cells == {("A",): None, ("B",): None, ("C",): 30}
    assert table.margins == ({"A": None, "B": None, "C": 30},)
    assert table.total == 55  # 54: A = total - B - C if B were shown


def test_a_table_smaller_than_the_threshold_is_hidden_whole() -> None:
    table = protect({("A", "x"): 3, ("B", "y"): 2}, DEFAULT_RULE)
    assert set(table.cells.values()) == {None}
    assert table.margins == ({"A": None, "B": None}, {"x": None, "y": None})
    assert table.total is None


def test_an_empty_table() -> None:
    table = protect({}, DEFAULT_RULE, dimensions=2)
    assert (table.cells, table.margins, table.total) == ({}, ({}, {}), 0)


def test_malformed_tables_are_refused() -> None:
    with pytest.raises(ValueError):
        protect({("A", "x"): -1}, DEFAULT_RULE)
    with pytest.raises(ValueError):
        protect({("A", "x"): 10, ("B",): 10}, DEFAULT_RULE)


# --- the attack can fail ----------------------------------------------------------------------------------------


def test_the_attack_recovers_a_cell_hidden_by_primary_suppression_alone() -> None:
    cells = {("A", "x"): 3, ("A", "y"): 20, ("B", "x"): 30, ("B", "y"): 40}
    released: dict[Key, int | None] = {k: (v if v >= 8 else None) for k, v in cells.items()}
    recovery = margin_attack(released, [{"A": 23, "B": 70}, {"x": 33, "y": 60}], 93, min_cell_count=8, round_to=1)
    assert recovery.cells == {("A", "x"): 3}


def test_the_attack_recovers_a_small_row_total_from_the_grand_total() -> None:
    # Row A's cells and total are hidden, but every other row total and the grand total are shown.
    released: dict[Key, int | None] = {
        ("A", "x"): None,
        ("A", "y"): None,
        ("B", "x"): None,
        ("B", "y"): None,
        ("C", "x"): 25,
    }
    recovery = margin_attack(released, [{"A": None, "B": 50, "C": 25}, {"x": None, "y": None}], 78, 8, 1)
    assert recovery.margins == {(0, "A"): 3}


def test_the_attack_uses_rounding_intervals() -> None:
    # Under the default rule x + y and y are both 8..12 (released as 10): x is 1..4, not pinned.
    cells: dict[Key, int | None] = {("A", "x"): None, ("A", "y"): 10}
    assert not margin_attack(cells, [{"A": 10}, {"x": None, "y": 10}], 10, 8, 5).anything
    # Unrounded, x = 10 - 9.
    cells = {("A", "x"): None, ("A", "y"): 9}
    pinned = margin_attack(cells, [{"A": 10}, {"x": None, "y": 9}], 10, 8, 1)
    assert pinned.cells == {("A", "x"): 1}


# --- random tables ----------------------------------------------------------------------------------------------

_COUNTS = st.one_of(st.just(0), st.integers(1, 7), st.integers(1, 3), st.integers(8, 60))
_RULES = st.sampled_from([DEFAULT_RULE, EXACT, Rule(3, 1), Rule(11, 10)])


@st.composite
def tables(draw: st.DrawFn, dimensions: int) -> dict[Key, int]:
    sizes = [draw(st.integers(1, 5 if dimensions == 2 else 3)) for _ in range(dimensions)]
    values: list[list[str | None]] = [[f"d{d}v{i}" for i in range(n)] for d, n in enumerate(sizes)]
    if draw(st.booleans()):
        values[-1][0] = None  # a None value (e.g. no category) is a value like any other
    return {key: draw(_COUNTS) for key in itertools.product(*values)}


def check(cells: dict[Key, int], rule: Rule, table: ProtectedTable) -> None:
    low = rule.min_cell_count
    dims = len(next(iter(cells)))
    truth: list[tuple[int, int | None]] = [(cells[k], table.cells[k]) for k in cells]
    for d in range(dims):
        assert set(table.margins[d]) == {k[d] for k in cells}
        for value, shown in table.margins[d].items():
            truth.append((sum(n for k, n in cells.items() if k[d] == value), shown))
    truth.append((sum(cells.values()), table.total))
    for true, shown in truth:
        if 0 < true < low:
            assert shown is None
        if shown is not None:
            assert shown == nearest(true, rule.round_to)
            if rule == DEFAULT_RULE:
                assert not 0 < shown < 8
    assert table.primary == sum(0 < true < low for true, _ in truth)
    assert table.primary + table.secondary == sum(shown is None for _, shown in truth)
    recovery = attack_table(table)
    assert not recovery.anything, recovery


@settings(max_examples=100, deadline=None)
@given(tables(2), _RULES)
def test_random_two_dimensional_tables_are_safe(cells: dict[Key, int], rule: Rule) -> None:
    check(cells, rule, protect(cells, rule))


@settings(max_examples=60, deadline=None)
@given(tables(3), _RULES)
def test_random_three_dimensional_tables_are_safe(cells: dict[Key, int], rule: Rule) -> None:
    check(cells, rule, protect(cells, rule))


@settings(max_examples=50, deadline=None)
@given(tables(1), _RULES)
def test_random_one_dimensional_tables_are_safe(cells: dict[Key, int], rule: Rule) -> None:
    check(cells, rule, protect(cells, rule))
