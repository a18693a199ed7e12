"""The method member of a hot-spots response says which counts Gi* used, and under the cell key method that they
carry the perturbation's variance V, already inside Gi*'s variance."""

from __future__ import annotations

from api.services.hotspots import _method
from sharing_protocols.disclosure import DEFAULT_RULE, Rule


def test_under_cell_key_the_counts_are_said_to_carry_the_perturbation_variance() -> None:
    rule = Rule(8, 5, "protocol", ("p@1#c",), "cell_key", "hub-cell-key@1")
    counts = _method(rule, 4, 2.0)["counts"]
    assert "perturbed by the cell key method" in counts
    assert "variance V = 2," in counts
    assert "V is not added again" in counts


def test_under_the_nhs_rule_the_stand_in_for_suppressed_counts_is_stated() -> None:
    counts = _method(DEFAULT_RULE, 4)["counts"]
    assert "taken as 4" in counts and "1-7" in counts and "variance" not in counts
