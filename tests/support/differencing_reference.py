"""The differencing guard as it was before its work was bounded (commit 1d52117): the reference the new guard
(`sharing_protocols.differencing`) must agree with, for the property test and the benchmark. Not production code.

It builds what the caller knows from every earlier figure, then searches every line, and starts again from scratch
after each figure it withholds. What a relation gives away (`_relation`, unchanged) is the guard's own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from sharing_protocols.differencing import Withheld, _families, _Known, _relation, _rest
from sharing_protocols.release_record import ReleasedFigure

_DIMS = ("months", "areas", "categories")

Atoms = tuple[frozenset[object], frozenset[object], frozenset[object]]  # months, areas, categories
Identity = tuple[str, str, Atoms]  # dataset, level and what a figure counts: figures alike count the same events


def _months(first: date, last: date) -> frozenset[object]:
    a, b = first.year * 12 + first.month - 1, last.year * 12 + last.month - 1
    return frozenset(range(a, b + 1))


def _atoms(figure: ReleasedFigure, universe: frozenset[object]) -> Atoms:
    categories = universe if figure.categories is None else frozenset(figure.categories)
    return _months(figure.first, figure.last), frozenset(figure.areas), categories


def _known(earlier: Sequence[ReleasedFigure], new: Sequence[ReleasedFigure]) -> dict[Identity, _Known]:
    # "every category" is taken as the categories any figure of the dataset names on its own (the catalogue's, as
    # far as the caller has asked): if there are more, the guard withholds more than it needs to, never less.
    groups: dict[tuple[str, str], set[object]] = defaultdict(set)
    for figure in (*earlier, *new):
        groups[(figure.dataset, figure.level)].update(figure.categories or ())
    known: dict[Identity, _Known] = {}
    for index, figure in enumerate((*earlier, *new)):
        atoms = _atoms(figure, frozenset(groups[(figure.dataset, figure.level)]))
        identity = (figure.dataset, figure.level, atoms)
        entry = known.setdefault(identity, _Known(identity, atoms, None, figure.min_cell_count, False, []))
        bounds = figure.bounds()
        if bounds is not None:
            entry.bounds = (
                bounds if entry.bounds is None else (max(entry.bounds[0], bounds[0]), min(entry.bounds[1], bounds[1]))
            )
        entry.min_cell_count = max(entry.min_cell_count, figure.min_cell_count)
        if index < len(earlier):
            entry.earlier = entry.earlier or bounds is not None
        else:
            entry.new.append(index - len(earlier))
    return known


def _disclosure(known: dict[Identity, _Known], withheld: set[Identity]) -> tuple[_Known, list[_Known], str] | None:
    """The first relation (aggregate, parts, what it gives away) the new answer completes, if any.

    A relation among the new answer's own figures is `protect`'s to prevent, unless what it gives away is a figure
    the guard withheld."""
    for dim in range(3):
        lines: dict[tuple[object, ...], list[_Known]] = defaultdict(list)
        for k in known.values():
            lines[(k.identity[0], k.identity[1], *_rest(k.atoms, dim))].append(k)
        for line in lines.values():
            if not any(k.new for k in line) or len(line) < 2:
                continue
            suppressed = [k for k in line if k.bounds is None]
            for whole in line:
                if whole.bounds is None or len(whole.atoms[dim]) < 2:
                    continue
                parts = [p for p in line if p.bounds is not None and p.atoms[dim] < whole.atoms[dim]]
                for family in _families(parts, dim):
                    why = _relation(whole, family, suppressed, withheld, dim)
                    if why is not None:
                        return whole, family, why
    return None


def guard(
    earlier: Sequence[ReleasedFigure], new: Sequence[ReleasedFigure]
) -> tuple[list[ReleasedFigure], list[Withheld]]:
    """The new answer's figures as they may be released given the `earlier` ones, and those withheld, with why."""
    released = list(new)
    withheld: list[Withheld] = []
    identities: set[Identity] = set()
    while (found := _disclosure(_known(earlier, released), identities)) is not None:
        whole, family, why = found
        target = next((k for k in (whole, *reversed(family)) if k.new and not k.earlier), None)
        if target is None:
            break  # every figure taking part was released earlier: the new answer adds nothing to withhold
        identities.add(target.identity)
        for index in target.new:
            if released[index].value is not None:
                released[index] = replace(released[index], value=None)
        figure = released[target.new[0]]
        reason = f"subtracted from figures released to your organisation (this answer's or earlier), {why}"
        withheld.append(Withheld(figure, reason, target.new[0]))
    return released, withheld
