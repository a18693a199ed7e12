"""Which clause's disclosure rule a group of events may be shown under: the laxest, whatever the order."""

from __future__ import annotations

from sharing_protocols.disclosure import DisclosureControl, laxest_clause

STRICT = DisclosureControl(min_cell_count=10, round_to=5)
EXACT = DisclosureControl(min_cell_count=1, round_to=1)


def test_a_clause_without_a_rule_of_its_own_is_laxer_than_a_stricter_one_in_either_order() -> None:
    own = {"a": STRICT, "b": None}  # b gets the NHS rule: 8 / 5
    assert laxest_clause(("a", "b"), own) == "b"
    assert laxest_clause(("b", "a"), own) == "b"


def test_an_exact_clause_wins_and_clauses_not_granted_are_ignored() -> None:
    own = {"a": STRICT, "b": None, "c": EXACT}
    assert laxest_clause(("x", "a", "c", "b"), own) == "c"
    assert laxest_clause(("x", "y"), own) is None


def test_ties_go_to_the_smallest_ref() -> None:
    assert laxest_clause(("z", "m"), {"z": STRICT, "m": STRICT}) == "m"
