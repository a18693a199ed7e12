"""The digest of an answer's figures (`sharing_protocols.release_record.ReleasedAnswer`): equal for the same figures
in the same order, different when any field the release record keeps differs, or the order, or a figure is left out."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import date
from typing import Any

import pytest

from sharing_protocols.release_record import FIELDS, ReleasedAnswer, ReleasedFigure, canonical, digest

FIGURE = ReleasedFigure(
    "police-records",
    "lad",
    frozenset({"E07000061", "E07000062"}),
    frozenset({"burglary", "robbery"}),
    date(2024, 1, 1),
    date(2024, 3, 1),
    "2024-Q1",
    12,
    5,
    1,
    ("a@1#x", "b@1#y"),
    "ward",
    frozenset({"E05000001", "E05000002"}),
)
OTHER = replace(FIGURE, areas=frozenset({"E07000063"}), base_areas=frozenset({"E05000003"}), value=7)

# Each field of a figure, changed (a field the record keeps; the digest must see it).
CHANGED: dict[str, Any] = {
    "dataset": "police-uk-street",
    "level": "csp",
    "areas": frozenset({"E07000061"}),
    "categories": None,
    "first": date(2024, 2, 1),
    "last": date(2024, 4, 1),
    "period": "2024-01 to 2024-03",
    "value": 13,
    "min_cell_count": 10,
    "round_to": 5,
    "clauses": ("a@1#x",),
    "base_level": "lsoa",
    "base_areas": frozenset({"E05000001"}),
}


def test_every_field_of_a_figure_is_one_the_digest_sees() -> None:
    assert set(CHANGED) == {f.name for f in fields(ReleasedFigure)}


@pytest.mark.parametrize("name", CHANGED)
def test_a_rows_field_names_are_the_fields_they_hold(name: str) -> None:
    # `FIELDS` names each place of a `canonical` row: a figure changed in one field changes the row under that
    # name (base level and areas: a figure's own when it has none) and nowhere else.
    before = dict(zip(FIELDS, canonical(FIGURE), strict=True))
    after = dict(zip(FIELDS, canonical(replace(FIGURE, **{name: CHANGED[name]})), strict=True))
    assert {key for key in FIELDS if before[key] != after[key]} == {name}


def test_an_answer_carries_the_canonical_rows_it_digests() -> None:
    answer = ReleasedAnswer.of([FIGURE, OTHER])
    assert answer.rows == (canonical(FIGURE), canonical(OTHER))
    assert answer.digest == digest([canonical(FIGURE), canonical(OTHER)])


@pytest.mark.parametrize("name", CHANGED)
def test_a_figure_changed_in_any_field_changes_the_digest(name: str) -> None:
    same = ReleasedAnswer.of([FIGURE, OTHER])
    assert ReleasedAnswer.of([replace(FIGURE, **{name: CHANGED[name]}), OTHER]).digest != same.digest
    assert ReleasedAnswer.of([FIGURE, replace(OTHER, **{name: CHANGED[name]})]).digest != same.digest


def test_a_suppressed_figure_differs_from_a_shown_one() -> None:
    assert ReleasedAnswer.of([replace(FIGURE, value=None)]).digest != ReleasedAnswer.of([FIGURE]).digest
    assert (
        ReleasedAnswer.of([replace(FIGURE, value=0)]).digest != ReleasedAnswer.of([replace(FIGURE, value=None)]).digest
    )


def test_the_same_figures_in_the_same_order_have_the_same_digest_whatever_their_sets_order() -> None:
    rebuilt = replace(
        FIGURE, areas=frozenset(["E07000062", "E07000061"]), categories=frozenset(["robbery", "burglary"])
    )
    assert ReleasedAnswer.of([rebuilt, OTHER]) == ReleasedAnswer.of([FIGURE, OTHER])
    assert len(ReleasedAnswer.of([FIGURE]).digest) == 32


def test_a_reordering_a_subset_or_a_figure_more_is_another_digest() -> None:
    digests = {
        ReleasedAnswer.of(figures).digest
        for figures in ([FIGURE, OTHER], [OTHER, FIGURE], [FIGURE], [OTHER], [FIGURE, OTHER, OTHER], [])
    }
    assert len(digests) == 6


def test_no_base_is_recorded_as_the_figure_itself() -> None:
    own = replace(FIGURE, level="ward", base_level=None, base_areas=None)
    assert canonical(own)[-2:] == ["ward", sorted(FIGURE.areas)]
    based = replace(own, base_level="ward", base_areas=FIGURE.areas)
    assert ReleasedAnswer.of([own]).digest == ReleasedAnswer.of([based]).digest  # recorded alike


def test_the_digest_of_rows_is_that_of_the_answer() -> None:
    assert digest([canonical(FIGURE), canonical(OTHER)]) == ReleasedAnswer.of([FIGURE, OTHER]).digest
