"""The guard's shortcut (`nothing_new`): an answer every figure of which the organisation was shown before alike
(the same events, value and rule) is released without the search. On random small histories
(tests/support/guard_history.py), the guard before its work was bounded (tests/support/differencing_reference.py)
withholds nothing from any answer the shortcut releases; answers asked again with a figure's value changed (shown
now, suppressed before, or the other way) are not released by it, and the reference withholds from some of them.
"""

from __future__ import annotations

import random
from dataclasses import replace

from sharing_protocols.differencing import alike, nothing_new
from sharing_protocols.release_record import ReleasedFigure
from tests.support import differencing_reference as reference
from tests.support.guard_history import random_history

SEEDS = range(400)


def _asked_again(seed: int) -> tuple[list[ReleasedFigure], list[list[ReleasedFigure]]]:
    """A history, and answers made of its figures asked again: some as shown, some with one figure of this seed's
    new answer on the same events (whose value may differ from what was shown), some with the value of a figure
    shown changed."""
    earlier, new = random_history(seed)
    rng = random.Random(seed)
    answers = [list(new)]
    if not earlier:
        return earlier, answers
    for _ in range(3):
        answers.append(rng.sample(earlier, rng.randrange(1, min(len(earlier), 12) + 1)))
    events = {alike(f)[:6]: f for f in earlier}
    for figure in new:
        if alike(figure)[:6] in events:
            answers.append([*rng.sample(earlier, min(len(earlier), 5)), figure])
    shown = rng.choice(earlier)
    changed = replace(shown, value=None if shown.value is not None else shown.min_cell_count + shown.round_to)
    answers.append([*rng.sample(earlier, min(len(earlier), 5)), changed])
    return earlier, answers


def test_the_reference_guard_withholds_nothing_from_an_answer_the_shortcut_releases() -> None:
    released = refused = refused_and_withheld = 0
    for seed in SEEDS:
        earlier, answers = _asked_again(seed)
        shown = {alike(f) for f in earlier}
        for answer in answers:
            withheld = reference.guard(earlier, answer)[1]
            if nothing_new(answer, shown):
                assert withheld == [], (seed, answer)
                released += 1
            else:
                refused += 1
                refused_and_withheld += bool(withheld)
    # the histories exercise both ways, and the value decides some of them
    assert released >= 1000, released
    assert refused >= 400, refused
    assert refused_and_withheld >= 20, refused_and_withheld


def test_a_figure_shown_before_with_another_value_or_rule_is_not_alike() -> None:
    earlier, _ = random_history(3)
    figure = next(f for f in earlier if f.value is not None)
    shown = {alike(figure)}
    assert nothing_new([figure], shown)
    assert not nothing_new([replace(figure, value=None)], shown)
    assert not nothing_new([replace(figure, value=(figure.value or 0) + 1)], shown)
    assert not nothing_new([replace(figure, min_cell_count=figure.min_cell_count + 1)], shown)
    assert not nothing_new([replace(figure, round_to=figure.round_to + 1)], shown)
    assert not nothing_new([replace(figure, areas=figure.areas | {"E9"})], shown)
    assert not nothing_new([figure, replace(figure, categories=frozenset({"z"}))], shown)
    # the period label and clauses are the record's, not what the figure counts
    assert nothing_new([replace(figure, period="another label", clauses=("c",))], shown)
