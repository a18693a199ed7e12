"""Which rule a figure gets: the laxest clause justifying each event, the strictest over a dataset's events, at
least the NHS rule for the public (a cell key rule stays as it is), and datasets under different rules never
combined."""

from __future__ import annotations

import pytest

from sharing_protocols.disclosure import DEFAULT_RULE, DisclosureControl, Rule
from sharing_protocols.figure_rule import Holding, MixedRules, at_least_nhs, figure_rule, laxest_clause

STRICT_CLAUSE = DisclosureControl(min_cell_count=10, round_to=5)
EXACT_CLAUSE = DisclosureControl(min_cell_count=1, round_to=1)


# --- the laxest clause: which clause's rule an event may be shown under, whatever the order --------------------


@pytest.mark.parametrize("refs", [("a", "b"), ("b", "a")])
def test_a_clause_without_a_rule_of_its_own_is_laxer_than_a_stricter_one_in_either_order(refs: tuple[str, ...]) -> None:
    own = {"a": STRICT_CLAUSE, "b": None}  # b gets the NHS rule: 8 / 5
    assert laxest_clause(refs, own) == "b"


def test_an_exact_clause_wins() -> None:
    own = {"a": STRICT_CLAUSE, "b": None, "c": EXACT_CLAUSE}
    assert laxest_clause(("x", "a", "c", "b"), own) == "c"


def test_clauses_not_granted_are_ignored() -> None:
    own = {"a": STRICT_CLAUSE, "b": None, "c": EXACT_CLAUSE}
    assert laxest_clause(("x", "y"), own) is None


def test_ties_go_to_the_smallest_ref() -> None:
    assert laxest_clause(("z", "m"), {"z": STRICT_CLAUSE, "m": STRICT_CLAUSE}) == "m"


# --- the figure's rule ------------------------------------------------------------------------------------------


def _numbers(rule: Rule) -> tuple[int, int]:
    return rule.min_cell_count, rule.round_to


def test_events_justified_by_an_exact_clause_are_exact_whatever_else_fits() -> None:
    # The strict clause fits the figure too, but every event is also the caller's under the exact one.
    holding = Holding({"own#exact": EXACT_CLAUSE, "other#strict": STRICT_CLAUSE}, [("other#strict", "own#exact")])
    rule = figure_rule({"marac-cases": holding})
    assert (_numbers(rule), rule.source, rule.clauses) == ((1, 1), "protocol", ("own#exact",))


def test_one_event_justified_only_by_a_strict_clause_makes_the_dataset_strict() -> None:
    holding = Holding(
        {"own#exact": EXACT_CLAUSE, "other#strict": STRICT_CLAUSE},
        [("other#strict", "own#exact"), ("other#strict",)],
    )
    assert _numbers(figure_rule({"marac-cases": holding})) == (10, 5)


def test_holding_no_events_the_dataset_takes_the_strictest_clause() -> None:
    holding = Holding({"own#exact": EXACT_CLAUSE, "other#strict": STRICT_CLAUSE})
    assert _numbers(figure_rule({"marac-cases": holding})) == (10, 5)


def test_a_clause_without_a_rule_of_its_own_gives_the_nhs_rule() -> None:
    assert figure_rule({"istv-ae": Holding({"a#b": None}, [("a#b",)])}) == DEFAULT_RULE


def test_datasets_under_different_rules_are_never_combined() -> None:
    holdings = {
        "marac-cases": Holding({"m#strict": STRICT_CLAUSE}, [("m#strict",)]),
        "police-records": Holding({"p#exact": EXACT_CLAUSE}, [("p#exact",)]),
    }
    with pytest.raises(MixedRules) as refused:
        figure_rule(holdings)
    assert {d: _numbers(r) for d, r in refused.value.rules.items()} == {
        "marac-cases": (10, 5),
        "police-records": (1, 1),
    }
    assert "marac-cases" in str(refused.value) and "police-records" in str(refused.value)


def test_datasets_under_one_rule_are_combined_and_name_every_clause() -> None:
    holdings = {
        "marac-cases": Holding({"m#strict": STRICT_CLAUSE}, [("m#strict",)]),
        "probation-iom": Holding({"p#strict": STRICT_CLAUSE}, [("p#strict",)]),
    }
    rule = figure_rule(holdings)
    assert (_numbers(rule), rule.source, rule.clauses) == ((10, 5), "protocol", ("m#strict", "p#strict"))


def test_a_dataset_the_caller_holds_nothing_of_does_not_count() -> None:
    holdings = {
        "marac-cases": Holding({"m#strict": STRICT_CLAUSE}),  # no events: adds only zeros
        "police-records": Holding({"p#exact": EXACT_CLAUSE}, [("p#exact",)]),
    }
    assert _numbers(figure_rule(holdings)) == (1, 1)


def test_the_public_never_gets_less_than_the_nhs_rule_and_is_told_which_clause_was_laxer() -> None:
    rule = figure_rule({"police-uk-street": Holding({"pub#lsoa": EXACT_CLAUSE}, [("pub#lsoa",)])}, public=True)
    assert (_numbers(rule), rule.source, rule.clauses) == ((8, 5), "combined", ("pub#lsoa",))


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (Rule(1, 1, "protocol", ("c",)), (8, 5, "combined")),
        (Rule(10, 1, "protocol", ("c",)), (10, 5, "combined")),
        (Rule(5, 10, "protocol", ("c",)), (8, 10, "combined")),
        (Rule(10, 10, "protocol", ("c",)), (10, 10, "protocol")),
        (DEFAULT_RULE, (8, 5, "default")),
    ],
)
def test_at_least_nhs_raises_a_threshold_rule_to_8_and_5(rule: Rule, expected: tuple[int, int, str]) -> None:
    raised = at_least_nhs(rule)
    assert (raised.min_cell_count, raised.round_to, raised.source, raised.method) == (*expected, "threshold")


def test_at_least_nhs_leaves_a_cell_key_rule_as_it_is() -> None:
    rule = Rule(8, 5, "protocol", ("c",), "cell_key", "hub-cell-key@1")
    assert at_least_nhs(rule) is rule


def test_the_public_keeps_a_clause_rule_stricter_than_the_nhs_rule() -> None:
    rule = figure_rule({"x": Holding({"pub#x": STRICT_CLAUSE}, [("pub#x",)])}, public=True)
    assert (_numbers(rule), rule.source) == ((10, 5), "protocol")
