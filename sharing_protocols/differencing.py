"""The differencing guard: an answer must not let its caller work out a small count by subtracting figures.

Threshold-and-round protects each answer on its own (`sharing_protocols.disclosure`); a caller that asks twice can
still subtract: a span of months minus the span less one month, an area total minus some of its areas, all
categories minus some. The guard takes every figure released earlier to the organisation (its release record,
`sharing_protocols.release_record`) and the figures of a new answer, and looks, within one dataset and level
(figures come at their base level, `ReleasedFigure.at_base`: a district as its wards), for an aggregate A and
released parts of it that differ from A in one dimension only (months, areas or categories): either one part, or
parts that do not overlap. The caller then knows A minus the parts within the bounds rounding leaves. That
remainder is disclosed when those bounds lie within 1..min_cell_count-1 (a count the rule suppresses, shown to be
small or exactly), or pin one value exactly where the hub suppressed a figure of just that remainder.
A relation the new answer adds nothing to (its figures were all known) is the earlier answers' and is not counted.

For each disclosure, a figure of the new answer taking part is withheld (the aggregate first), with every figure of
the answer counting the same events, and the search runs again until none is found.

The work per answer is bounded: a relation lies on one line (figures alike in two dimensions), so only earlier
figures on a line of one of the new answer's figures are considered (`lines`: what the warehouse reads), figures
counting the same events are one entry, and after a withholding only the lines holding the withheld figure are
searched again. Beyond `MAX_EARLIER` such earlier figures the guard withholds the whole answer (it fails closed
rather than check part of what the caller knows). An answer every figure of which the organisation was shown
before alike (`nothing_new`: the same events, value and rule) reveals nothing new and is not searched at all.
Pure: the warehouse supplies the earlier figures.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import NamedTuple

from sharing_protocols.release_record import ReleasedFigure

MAX_EARLIER = 20_000  # earlier figures one answer is checked against (on its lines, alike ones once); beyond: withheld

_DIMS = ("months", "areas", "categories")

Atoms = tuple[frozenset[object], frozenset[object], frozenset[object]]  # months, areas, categories
Identity = tuple[str, str, Atoms]  # dataset, level and what a figure counts: figures alike count the same events
Asked = Mapping[tuple[str, str], frozenset[str]]  # per dataset and level: every category a figure names apart


def _month(day: date) -> int:
    return day.year * 12 + day.month - 1


def _months(first: date, last: date) -> frozenset[object]:
    return frozenset(range(_month(first), _month(last) + 1))


Alike = tuple[str, str, frozenset[str], frozenset[str] | None, date, date, int | None, int, int]


def alike(figure: ReleasedFigure) -> Alike:
    """What a figure is alike in to another, as recorded: the same events (dataset, level, areas, categories, months),
    value and rule."""
    return (
        figure.dataset,
        figure.level,
        figure.areas,
        figure.categories,
        figure.first,
        figure.last,
        figure.value,
        figure.min_cell_count,
        figure.round_to,
    )


def nothing_new(new: Sequence[ReleasedFigure], shown: Collection[Alike]) -> bool:
    """Whether every figure of the `new` answer is `alike` one the organisation was shown (`shown`): the answer then
    reveals nothing new and is released as it is, without the guard's search."""
    return all(alike(figure) in shown for figure in new)


class Line(NamedTuple):
    """Figures of one dataset and level alike in two dimensions and differing in the third (the one left None):
    every relation the guard looks for lies on one line. `categories` lists the spellings of one set of categories
    as the release record keeps it (sorted; () is every category, and so is the list of every category asked)."""

    dataset: str
    level: str
    months: tuple[date, date] | None
    areas: tuple[str, ...] | None
    categories: tuple[tuple[str, ...], ...] | None


def asked(figures: Sequence[ReleasedFigure]) -> dict[tuple[str, str], frozenset[str]]:
    """Every category the `figures` name, per dataset and level ("every category" is taken as these)."""
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    for figure in figures:
        found[(figure.dataset, figure.level)].update(figure.categories or ())
    return {group: frozenset(categories) for group, categories in found.items()}


def _universe(earlier: Asked, new: Sequence[ReleasedFigure]) -> dict[tuple[str, str], frozenset[str]]:
    universe = dict(earlier)
    for group, categories in asked(new).items():
        universe[group] = universe.get(group, frozenset()) | categories
    return universe


_Key = tuple[str, str, tuple[int, int], frozenset[str], frozenset[str] | None]  # an identity, cheaply


def _key(figure: ReleasedFigure, universe: Asked) -> _Key:
    every = figure.categories is None or figure.categories == universe[(figure.dataset, figure.level)]
    months = (_month(figure.first), _month(figure.last))
    return figure.dataset, figure.level, months, figure.areas, None if every else figure.categories


def _line_keys(key: _Key) -> tuple[tuple[object, ...], ...]:
    dataset, level, months, areas, categories = key
    return (
        (0, dataset, level, areas, categories),
        (1, dataset, level, months, categories),
        (2, dataset, level, months, areas),
    )


def lines(new: Sequence[ReleasedFigure], earlier: Asked) -> list[Line]:
    """The lines of the `new` answer's figures: the earlier figures on them are all the guard needs (`earlier`:
    every category the earlier figures name, per dataset and level)."""
    universe = _universe(earlier, new)
    found: dict[Line, None] = {}
    for figure in new:
        every = sorted(universe[(figure.dataset, figure.level)])
        spelt: tuple[tuple[str, ...], ...]
        if figure.categories is None or figure.categories == universe[(figure.dataset, figure.level)]:
            spelt = ((), tuple(every)) if every else ((),)
        else:
            spelt = (tuple(sorted(figure.categories)),)
        months, areas = (figure.first, figure.last), tuple(sorted(figure.areas))
        found[Line(figure.dataset, figure.level, None, areas, spelt)] = None
        found[Line(figure.dataset, figure.level, months, None, spelt)] = None
        found[Line(figure.dataset, figure.level, months, areas, None)] = None
    return list(found)


@dataclass(frozen=True)
class Withheld:
    """A figure of the new answer withheld by the guard, and why; `index`: where it is in the new answer."""

    figure: ReleasedFigure
    reason: str
    index: int


@dataclass
class _Known:
    """What the caller knows of one identity: bounds of the true count (None: only that it was suppressed)."""

    identity: Identity
    atoms: Atoms
    bounds: tuple[int, int] | None
    min_cell_count: int
    earlier: bool  # its count was shown in an earlier answer
    new: list[int]  # indexes of the new answer's figures counting these events


def _considered(earlier: Sequence[ReleasedFigure], new: Sequence[ReleasedFigure], universe: Asked) -> int:
    """How many earlier figures are on the lines of the new answer, alike ones (same events as recorded, value and
    rule) once: as many as the warehouse reads for it."""
    wanted = {line for figure in new for line in _line_keys(_key(figure, universe))}
    return len(
        {
            (f.dataset, f.level, f.areas, f.categories, f.first, f.last, f.value, f.min_cell_count, f.round_to)
            for f in earlier
            if any(line in wanted for line in _line_keys(_key(f, universe)))
        }
    )


def _known(earlier: Sequence[ReleasedFigure], new: Sequence[ReleasedFigure], universe: Asked) -> dict[Identity, _Known]:
    """What the caller knows of the identities on the lines of the new answer, in the order first released."""
    wanted = {line for figure in new for line in _line_keys(_key(figure, universe))}
    atoms_of: dict[_Key, Atoms | None] = {}
    known: dict[Identity, _Known] = {}
    for index, figure in enumerate((*earlier, *new)):
        key = _key(figure, universe)
        if key not in atoms_of:
            categories = universe[(figure.dataset, figure.level)] if key[4] is None else key[4]
            atoms_of[key] = (
                (_months(figure.first, figure.last), frozenset(figure.areas), frozenset(categories))
                if any(line in wanted for line in _line_keys(key))
                else None  # on no line of the new answer: takes part in no relation the answer completes
            )
        atoms = atoms_of[key]
        if atoms is None:
            continue
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


def _rest(atoms: Atoms, dim: int) -> tuple[object, ...]:
    return tuple(a for j, a in enumerate(atoms) if j != dim)


def _families(parts: list[_Known], dim: int) -> Iterator[list[_Known]]:
    """Single parts, then the non-overlapping parts taken largest first."""
    for part in parts:
        yield [part]
    chosen: list[_Known] = []
    covered: set[object] = set()
    for part in sorted(parts, key=lambda p: (-len(p.atoms[dim]), sorted(map(str, p.atoms[dim])))):
        if not covered & part.atoms[dim]:
            chosen.append(part)
            covered |= part.atoms[dim]
    if len(chosen) > 1:
        yield chosen


def _describe(dim: int, remainder: frozenset[object]) -> str:
    if dim == 0:
        months = sorted(int(str(m)) for m in remainder)
        label = [f"{m // 12}-{m % 12 + 1:02d}" for m in (months[0], months[-1])]
        return f"the months {label[0]} to {label[1]}" if len(months) > 1 else f"the month {label[0]}"
    return f"the {_DIMS[dim]} {', '.join(sorted(str(v) for v in remainder))}"


def _relation(
    whole: _Known, family: list[_Known], suppressed: list[_Known], withheld: set[Identity], dim: int
) -> str | None:
    """What `whole` minus the parts `family` (along `dim`) gives away, if anything."""
    if whole.bounds is None or all(k.earlier for k in (whole, *family)):
        return None  # nothing new: the earlier answers' relation
    size = len(whole.atoms[dim]) - sum(len(p.atoms[dim]) for p in family)
    if size <= 0:
        return None  # nothing left over
    low = max(whole.bounds[0] - sum(p.bounds[1] for p in family if p.bounds), 0)
    high = whole.bounds[1] - sum(p.bounds[0] for p in family if p.bounds)
    match = None
    if low == high > 0:  # a suppressed figure of exactly the remainder?
        match = next(
            (
                c
                for c in suppressed
                if len(c.atoms[dim]) == size
                and c.atoms[dim] < whole.atoms[dim]
                and all(c.atoms[dim].isdisjoint(p.atoms[dim]) for p in family)
            ),
            None,
        )
    small = low >= 1 and high < whole.min_cell_count
    if not any(k.earlier for k in (whole, *family)) and (match is None or match.identity not in withheld):
        return None  # within the new answer: protect's to prevent
    if not small and match is None:
        return None
    remainder = whole.atoms[dim] - frozenset().union(*(p.atoms[dim] for p in family))
    what = "exactly" if low == high else f"to be {low}-{high}"
    return f"it would show the count of {_describe(dim, remainder)} {what}"


def _lines(known: dict[Identity, _Known]) -> list[tuple[int, list[_Known]]]:
    """The lines a relation the new answer completes may lie on (dimension, figures in the order first released):
    months first, then areas, then categories."""
    found: list[tuple[int, list[_Known]]] = []
    for dim in range(3):
        lines: dict[tuple[object, ...], list[_Known]] = defaultdict(list)
        for k in known.values():
            lines[(k.identity[0], k.identity[1], *_rest(k.atoms, dim))].append(k)
        found.extend((dim, line) for line in lines.values() if len(line) >= 2 and any(k.new for k in line))
    return found


def _disclosure(line: list[_Known], dim: int, withheld: set[Identity]) -> tuple[_Known, list[_Known], str] | None:
    """The first relation (aggregate, parts, what it gives away) on `line` the new answer completes, if any.

    A relation among the new answer's own figures is `protect`'s to prevent, unless what it gives away is a figure
    the guard withheld."""
    fresh = [k for k in line if k.bounds is not None and not k.earlier]  # shown now, not before
    if not fresh:
        return None  # every relation on the line is the earlier answers'
    suppressed = [k for k in line if k.bounds is None]
    for whole in line:
        if whole.bounds is None or len(whole.atoms[dim]) < 2:
            continue
        if whole.earlier and not any(k.atoms[dim] < whole.atoms[dim] for k in fresh):
            continue  # its parts were all shown before: so were its relations
        parts = [p for p in line if p.bounds is not None and p.atoms[dim] < whole.atoms[dim]]
        for family in _families(parts, dim):
            why = _relation(whole, family, suppressed, withheld, dim)
            if why is not None:
                return whole, family, why
    return None


def guard(
    earlier: Sequence[ReleasedFigure], new: Sequence[ReleasedFigure], categories: Asked | None = None
) -> tuple[list[ReleasedFigure], list[Withheld]]:
    """The new answer's figures as they may be released given the `earlier` ones, and those withheld, with why.

    `earlier` may be only the figures on the new answer's `lines` (alike ones once); `categories` is then every
    category the earlier figures name (`asked`), which is what "every category" means. Given more than
    `MAX_EARLIER` earlier figures on its lines (alike ones once), every figure of the answer is withheld."""
    released = list(new)
    universe = _universe(asked(earlier) if categories is None else categories, new)
    if len(earlier) > MAX_EARLIER and _considered(earlier, new, universe) > MAX_EARLIER:
        reason = (
            f"your organisation has been shown more than {MAX_EARLIER} figures alike to this answer's, more than the "
            "differencing guard checks in one answer; ask for fewer or other areas, periods or categories"
        )
        closed = [replace(figure, value=None) for figure in released]
        return closed, [
            Withheld(f, reason, i)
            for i, (f, before) in enumerate(zip(closed, released, strict=True))
            if not before.suppressed
        ]
    known = _known(earlier, released, universe)
    lines = _lines(known)
    on: dict[Identity, list[int]] = defaultdict(list)  # the lines each identity is on
    for number, (_, line) in enumerate(lines):
        for k in line:
            on[k.identity].append(number)
    clean: set[int] = set()  # lines searched and found giving nothing away since they last changed
    withheld: list[Withheld] = []
    identities: set[Identity] = set()
    while True:
        found = None
        for number, (dim, line) in enumerate(lines):
            if number not in clean:
                if (found := _disclosure(line, dim, identities)) is not None:
                    break
                clean.add(number)
        if found is None:
            break
        whole, family, why = found
        target = next((k for k in (whole, *reversed(family)) if k.new and not k.earlier), None)
        if target is None:
            break  # every figure taking part was released earlier: the new answer adds nothing to withhold
        identities.add(target.identity)
        for index in target.new:
            if released[index].value is not None:
                released[index] = replace(released[index], value=None)
        target.bounds = None  # all its figures are the new answer's, now withheld
        clean.difference_update(on[target.identity])
        figure = released[target.new[0]]
        reason = f"subtracted from figures released to your organisation (this answer's or earlier), {why}"
        withheld.append(Withheld(figure, reason, target.new[0]))
    return released, withheld
