"""A cell_key clause's rule: it carries its method and table, is never combined with a threshold rule, stays the
cell_key rule for the public, and releases a table whose every cell is perturbed by its cell key and whose totals
add up."""

from __future__ import annotations

from pathlib import Path

import pytest

from sharing_protocols.cell_key_release import KeyedCount, perturbed_table
from sharing_protocols.disclosure import DEFAULT_RULE, DisclosureControl, Key, Rule, rule_for
from sharing_protocols.figure_rule import Holding, MixedRules, figure_rule, threshold_only
from sharing_protocols.perturbation import RECORD_KEY_MODULUS, key_ranges, parse_table

CELL_KEY = DisclosureControl.model_validate({"method": "cell_key", "table": "hub-cell-key@1"})
OTHER_TABLE = DisclosureControl.model_validate({"method": "cell_key", "table": "hub-cell-key@2"})
THRESHOLD = DisclosureControl(min_cell_count=8, round_to=5)  # the same numbers the cell_key clause carries
TABLE_FILE = Path(__file__).parents[3] / "sharing_protocols" / "perturbation_tables" / "hub-cell-key-1.yaml"
TABLE = parse_table(TABLE_FILE.read_text(), str(TABLE_FILE))


def test_a_cell_key_clause_alone_gives_a_cell_key_rule_naming_its_table() -> None:
    rule = rule_for([("p#1", CELL_KEY), ("p#2", CELL_KEY)])
    assert (rule.method, rule.table, rule.clauses, rule.source) == (
        "cell_key",
        "hub-cell-key@1",
        ("p#1", "p#2"),
        "protocol",
    )
    assert "hub-cell-key@1" in rule.describe() and "perturbed" in rule.describe()


@pytest.mark.parametrize("other", [None, THRESHOLD, OTHER_TABLE])
def test_a_cell_key_clause_with_another_rule_in_one_figure_counts_as_the_nhs_rule_it_carries(
    other: DisclosureControl | None,
) -> None:
    rule = rule_for([("p#1", CELL_KEY), ("p#2", other)])
    assert (rule.method, rule.table, rule.min_cell_count, rule.round_to) == ("threshold", None, 8, 5)


def test_datasets_under_a_cell_key_rule_and_a_threshold_rule_of_the_same_numbers_are_refused_together() -> None:
    holdings = {"a": Holding({"p#1": CELL_KEY}, [("p#1",)]), "b": Holding({"p#2": THRESHOLD}, [("p#2",)])}
    with pytest.raises(MixedRules):
        figure_rule(holdings)


def test_datasets_under_the_same_cell_key_rule_are_combined_under_it() -> None:
    holdings = {"a": Holding({"p#1": CELL_KEY}, [("p#1",)]), "b": Holding({"p#2": CELL_KEY}, [("p#2",)])}
    rule = figure_rule(holdings)
    assert (rule.method, rule.table, rule.clauses) == ("cell_key", "hub-cell-key@1", ("p#1", "p#2"))


def test_for_the_public_a_cell_key_clause_keeps_its_cell_key_rule() -> None:
    rule = figure_rule({"a": Holding({"p#1": CELL_KEY}, [("p#1",)])}, public=True)
    assert (rule.method, rule.table, rule.source, rule.clauses) == ("cell_key", "hub-cell-key@1", "protocol", ("p#1",))
    assert rule == figure_rule({"a": Holding({"p#1": CELL_KEY}, [("p#1",)])}), "the same rule as a keyed caller's"


def test_for_the_public_a_cell_key_dataset_and_an_nhs_dataset_are_not_combined() -> None:
    holdings = {"a": Holding({"p#1": CELL_KEY}, [("p#1",)]), "b": Holding({"p#2": None}, [("p#2",)])}
    with pytest.raises(MixedRules):
        figure_rule(holdings, public=True)


def test_for_the_public_events_also_under_an_exact_clause_are_raised_to_the_nhs_rule_not_perturbed() -> None:
    # The laxest clause justifying the events is the exact one; the public gets it raised to the NHS rule.
    exact = DisclosureControl(min_cell_count=1, round_to=1)
    rule = figure_rule({"a": Holding({"p#1": CELL_KEY, "p#2": exact}, [("p#1", "p#2")])}, public=True)
    assert (rule.method, rule.min_cell_count, rule.round_to, rule.source) == ("threshold", 8, 5, "combined")


def test_a_rule_names_a_table_exactly_when_it_perturbs() -> None:
    with pytest.raises(ValueError, match="table"):
        Rule(8, 5, method="cell_key")
    with pytest.raises(ValueError, match="table"):
        Rule(8, 5, table="hub-cell-key@1")


def _key_for(count: int, p: int) -> int:
    """A cell key the table maps to perturbation p at `count` (read from its key ranges independently)."""
    return next(start for q, start, end in key_ranges(TABLE.row(count)) if q == p and end > start)


def test_each_cell_is_its_count_plus_the_perturbation_its_key_picks_and_totals_are_the_sums() -> None:
    rule = rule_for([("p#1", CELL_KEY)])
    cells: dict[Key, KeyedCount] = {
        ("w1", "2024-01"): KeyedCount(1, _key_for(1, -1)),  # shown as 0
        ("w1", "2024-02"): KeyedCount(1, _key_for(1, 4)),  # shown as 5
        ("w2", "2024-01"): KeyedCount(0, 0),
        ("w2", "2024-02"): KeyedCount(40, _key_for(40, 2)),
    }
    table = perturbed_table(cells, TABLE, rule, 2)
    assert table.cells == {("w1", "2024-01"): 0, ("w1", "2024-02"): 5, ("w2", "2024-01"): 0, ("w2", "2024-02"): 42}
    assert table.margins == ({"w1": 5, "w2": 42}, {"2024-01": 0, "2024-02": 47})
    assert (table.total, table.primary, table.secondary) == (47, 0, 0)


def test_equal_cells_get_equal_figures_and_no_figure_is_small() -> None:
    rule = rule_for([("p#1", CELL_KEY)])
    cells: dict[Key, KeyedCount] = {
        (str(n), str(k)): KeyedCount(n, k) for n in range(0, 30) for k in range(0, RECORD_KEY_MODULUS, 997)
    }
    first, again = (
        perturbed_table(cells, TABLE, rule, 2),
        perturbed_table(dict(reversed(cells.items())), TABLE, rule, 2),
    )
    assert first.cells == again.cells
    for key, shown in first.cells.items():
        true = cells[key].count
        assert shown is not None and not 1 <= shown <= 4 and abs(shown - true) <= 5
        assert shown == 0 or true > 0  # zero stays zero


def test_keys_add_modulo_the_record_key_modulus() -> None:
    assert KeyedCount(2, RECORD_KEY_MODULUS - 1) + KeyedCount(3, 5) == KeyedCount(5, 4)


def test_a_table_other_than_the_rules_is_refused() -> None:
    with pytest.raises(ValueError, match="does not perturb"):
        perturbed_table({}, TABLE, DEFAULT_RULE, 1)


def test_figures_the_method_cannot_perturb_take_the_nhs_rule_the_cell_key_clauses_carry() -> None:
    rule = threshold_only(rule_for([("p#1", CELL_KEY)]))
    assert (rule.method, rule.table, rule.min_cell_count, rule.round_to) == ("threshold", None, 8, 5)
    assert (rule.source, rule.clauses) == ("combined", ("p#1",))
    assert threshold_only(DEFAULT_RULE) is DEFAULT_RULE
