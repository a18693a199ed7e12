"""The figures of a protected count table as the release record keeps them: cells, margins and the grand total
(and those of a linked table: repeats, cohorts, each part of a row a category of its measure);
and `Recorder`, the one release hook of every endpoint that releases counts (/v1/counts, rates, trends, OGC items,
hot spots, repeats, cohorts):
it records the figures an answer shows and, under threshold-and-round, withholds those the differencing guard
finds would give a suppressed count away together with what the organisation was shown before.

Each figure names the areas, categories (None: all) and months it sums, so that the differencing guard can tell
which figures are parts of which. A figure summing overlapping periods (a margin over rolling 12-month periods)
is not one span of months and is left out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property
from itertools import pairwise
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from api.aggregate_query import AggregateParams, Resolved, recipient
from api.caller import Caller
from api.linked_query import Parts
from api.schemas.common import DisclosureOut
from api.ward_parents import WardParents
from sharing_protocols.differencing import MAX_EARLIER, Withheld, guard, lines, nothing_new
from sharing_protocols.disclosure import Key, ProtectedTable, Rule, Value
from sharing_protocols.periods import Period, PeriodType
from sharing_protocols.release_record import FigureRow, ReleasedAnswer, ReleasedFigure, canonical, digest
from warehouse.queries.aggregates import Level
from warehouse.queries.releases import categories_asked, earlier_figures, repeated, shown_alike

if TYPE_CHECKING:
    from api.memo import Memo

UNLOCATED = "(unlocated)"  # events placed in no area, as an area of the record
NO_CATEGORY = "(none)"  # events whose category was not released, as a category of the record
Position = tuple[Key] | tuple[int, Value] | tuple[()]  # a cell's key, a margin (dimension, value), the total


def _spans(
    params: AggregateParams, table: ProtectedTable
) -> Iterator[tuple[Position, tuple[frozenset[Value], ...], int | None]]:
    """Each figure of `table`, where it is, and the values it sums in every dimension (a margin's and the total's
    other dimensions: one set, the same object, for every figure)."""
    dims = len(params.dimensions)
    every = tuple(frozenset(key[i] for key in table.cells) for i in range(dims))
    alone: dict[Value, frozenset[Value]] = {}  # each value's set of itself, made once
    for key, value in table.cells.items():
        yield (key,), tuple(alone.get(v) or alone.setdefault(v, frozenset((v,))) for v in key), value
    for i, margin in enumerate(table.margins):
        for v, value in margin.items():
            yield (i, v), tuple(frozenset((v,)) if j == i else every[j] for j in range(dims)), value
    if table.cells:
        yield (), every, table.total


_Span = tuple[date, date, str]  # a figure's first and last months and its period's label


def released_figures(
    params: AggregateParams, found: Sequence[Period], table: ProtectedTable, rule: Rule
) -> list[tuple[Position, ReleasedFigure]]:
    """The figures `table` released (or suppressed) for the query `params` over the periods `found`, each with
    where it is in the table."""
    dims = params.dimensions
    by_label = {p.label: p for p in found}
    combined = "+".join(sorted(params.datasets))
    asked: frozenset[str] | None = frozenset(params.categories) or None
    rolling = params.period is PeriodType.rolling_12
    # An answer's figures share their sets of periods, areas and categories (a cell's one value, a margin's every
    # value): each set is worked out once (None: periods that overlap, a figure left out).
    spans: dict[frozenset[Value], _Span | None] = {}
    areas_of: dict[frozenset[Value], frozenset[str]] = {}
    categories_of: dict[frozenset[Value], frozenset[str] | None] = {}
    figures = []
    for position, values, value in _spans(params, table):
        of = dict(zip(dims, values, strict=True))
        months = of["period"]
        if months not in spans:
            spans[months] = _span([by_label[str(label)] for label in months], rolling)
        span = spans[months]
        if span is None:
            continue
        categories = asked
        if "category" in of and len(of["category"]) == 1:
            if of["category"] not in categories_of:
                categories_of[of["category"]] = frozenset(NO_CATEGORY if c is None else c for c in of["category"])
            categories = categories_of[of["category"]]
        datasets = of.get("dataset", frozenset())
        dataset = str(next(iter(datasets))) if len(datasets) == 1 else combined
        if of["area"] not in areas_of:
            areas_of[of["area"]] = frozenset(str(a) for a in of["area"])
        figures.append((position, _figure(dataset, params.level, areas_of[of["area"]], categories, *span, value, rule)))
    return figures


def _span(periods: Sequence[Period], rolling: bool) -> _Span | None:
    """The months `periods` sum, labelled as the caller sees them; None for more than one rolling 12-month period
    (they overlap: not one span of months)."""
    if len(periods) > 1 and rolling:
        return None
    first, last = min(p.first for p in periods), max(p.last for p in periods)
    return first, last, periods[0].label if len(periods) == 1 else f"{first:%Y-%m} to {last:%Y-%m}"


def _figure(
    dataset: str,
    level: Level,
    areas: frozenset[str],
    categories: frozenset[str] | None,
    first: date,
    last: date,
    period: str,
    value: int | None,
    rule: Rule,
) -> ReleasedFigure:
    """The figure of `dataset` summing `areas` and `categories` over `first`..`last` (labelled `period`), released
    as `value` under `rule`."""
    return ReleasedFigure(
        dataset=dataset,
        level=level.value,
        areas=areas,
        categories=categories,
        first=first,
        last=last,
        period=period,
        value=value,
        min_cell_count=rule.min_cell_count,
        round_to=rule.round_to,
        clauses=rule.clauses,
    )


@dataclass(frozen=True)
class Linked:
    """What a linked table releases: its measure (named in each figure's dataset, e.g. "police-records:repeats",
    so that it is related only to figures counting the same thing), the parts it shows of each row, and whether it
    shows each part's and the grand total over its rows."""

    measure: str
    shown: tuple[str, ...]
    margins: bool


@dataclass(frozen=True)
class LinkedRow:
    """What one row of a linked table (`api.linked_query.Parts`) counts: its areas (UNLOCATED: events placed in
    none), the group its parts belong to (a MARAC, a cohort; None: none) and the span of months it sums."""

    areas: frozenset[str]
    group: str | None
    first: date
    last: date
    period: str


def _row_figure(
    measure: str,
    level: Level,
    of: Sequence[LinkedRow],
    categories: frozenset[str] | None,
    value: int | None,
    rule: Rule,
) -> ReleasedFigure:
    """The figure of `measure` summing the rows `of` in `categories`, released as `value` under `rule`."""
    first, last = min(r.first for r in of), max(r.last for r in of)
    label = of[0].period if len({r.period for r in of}) == 1 else f"{first:%Y-%m} to {last:%Y-%m}"
    areas = frozenset(a for r in of for a in r.areas)
    return _figure(measure, level, areas, categories, first, last, label, value, rule)


def row_figures(
    measure: str, level: Level, rows: Sequence[LinkedRow], table: ProtectedTable, rule: Rule
) -> list[tuple[Position, ReleasedFigure]]:
    """The figures of a table of one count per row (keyed by the row's index, e.g. MARAC information-only
    referrals): each row's count of `measure`, in the category of its group (None: every category)."""
    return [
        (
            ((str(i),),),
            _row_figure(
                measure, level, [row], frozenset({row.group}) if row.group else None, table.cells[(str(i),)], rule
            ),
        )
        for i, row in enumerate(rows)
    ]


def _category(row: LinkedRow, kind: str) -> str:
    return kind if row.group is None else f"{row.group}/{kind}"


def linked_figures(
    linked: Linked,
    level: Level,
    rows: Sequence[LinkedRow],
    parts: Parts,
    rule: Rule,
    region: frozenset[str] = frozenset(),
) -> list[tuple[Position, ReleasedFigure]]:
    """The figures a linked table shows, each with where it is in `parts.table`: every part of `linked.shown` of a
    row (a category of the measure: the part, after the row's group), every row's total (all its parts) and, with
    `linked.margins`, each shown part over every row and the grand total (left out where the rows' spans overlap, as
    rolling 12-month periods do; they sum the `region` too: areas asked for that may have no row, where they count
    0). The parts never shown (e.g. first incidents) are not figures: the guard works
    them out as the total less the others."""
    figures: list[tuple[Position, ReleasedFigure]] = []

    def add(
        position: Position, of: Sequence[LinkedRow], kinds: Sequence[str], value: int | None, over_rows: bool = False
    ) -> None:
        categories = frozenset(_category(r, k) for r in of for k in kinds)
        figure = _row_figure(linked.measure, level, of, categories, value, rule)
        figures.append((position, replace(figure, areas=figure.areas | region) if over_rows else figure))

    for i, row in enumerate(rows):
        for kind in linked.shown:
            add(((str(i), kind),), [row], [kind], parts.part(i, kind))
        add((0, str(i)), [row], parts.kinds, parts.total(i))
    spans = sorted({(r.first, r.last) for r in rows})
    tiled = all(earlier[1] < later[0] for earlier, later in pairwise(spans))
    if linked.margins and rows and tiled:
        for kind in linked.shown:
            add((1, kind), rows, [kind], parts.overall(kind), over_rows=True)
        add((), rows, parts.kinds, parts.overall(), over_rows=True)
    return figures


@dataclass(frozen=True)
class Worked:
    """The work on an answer's figures before the release record is asked: the `placed` figures (where each is in
    its table), the figures with their base areas (`at_base`; under the cell key method, the figures themselves),
    their `canonical` rows and (worked out when first asked for) the rows' digest."""

    placed: tuple[tuple[Position, ReleasedFigure], ...]
    based: tuple[ReleasedFigure, ...]
    rows: tuple[FigureRow, ...]

    @cached_property
    def digest(self) -> bytes:
        """The digest of these rows alone (`sharing_protocols.release_record.digest`)."""
        return digest(self.rows)

    @classmethod
    def of(
        cls, wards: WardParents, level: Level, rule: Rule, placed: Sequence[tuple[Position, ReleasedFigure]]
    ) -> Worked:
        figures = [figure for _, figure in placed]
        based = figures if rule.method == "cell_key" else at_base(wards, level, figures)
        rows = tuple(canonical(figure) for figure in based)
        return cls(tuple(placed), tuple(based), rows)


# What a count table's `Worked` depends on: the query, the periods its figures are in, the protected table's cells (in
# order), margins and total, the rule, the `Recorder`'s margins and total flags, and the ward parents.
FiguresKey = tuple[
    AggregateParams,
    tuple[Period, ...],
    tuple[tuple[Key, int | None], ...],
    tuple[tuple[tuple[Value, int | None], ...], ...],
    int | None,
    Rule,
    bool,
    bool,
    WardParents,
]


def withhold(table: ProtectedTable, positions: Sequence[Position]) -> ProtectedTable:
    """`table` with the figures at `positions` suppressed too (counted as secondary suppression)."""
    cells = dict(table.cells)
    margins = [dict(m) for m in table.margins]
    total = table.total
    for position in positions:
        if len(position) == 1:
            cells[position[0]] = None
        elif len(position) == 2:
            margins[position[0]][position[1]] = None
        else:
            total = None
    extra = sum(v is None for v in cells.values()) - sum(v is None for v in table.cells.values())
    extra += sum(v is None for m in margins for v in m.values()) - sum(
        v is None for m in table.margins for v in m.values()
    )
    extra += total is None and table.total is not None
    return replace(table, cells=cells, margins=tuple(margins), total=total, secondary=table.secondary + extra)


def at_base(wards: WardParents, level: Level, figures: Sequence[ReleasedFigure]) -> list[ReleasedFigure]:
    """`figures` (all at `level`) with their base areas: the wards each area is made of (LSOAs: themselves), so that
    the guard can subtract a district's wards from the district. An area with no ward loaded stays itself."""
    if level in (Level.lsoa, Level.ward):
        return [f.based(level.value, f.areas) for f in figures]
    codes = sorted({code for f in figures for code in f.areas})
    making = wards.making(level, codes)
    return [
        f.based(Level.ward.value, frozenset(ward for code in f.areas for ward in making.get(code, {code})))
        for f in figures
    ]


def named(figure: ReleasedFigure) -> str:
    """A released figure as the caller would name it."""
    areas = ", ".join(sorted(figure.areas))
    categories = "all categories" if figure.categories is None else ", ".join(sorted(figure.categories))
    return f"{figure.dataset} in {areas}, {categories}, {figure.period}"


@dataclass
class Recorder:
    """The release hook of an answer's count table (`api.services.counts.Release`): called with the protected
    table, it returns the table as released and keeps the figures released (for the release record) and why any
    were withheld (for `disclosure.withheld`).

    Perturbed (cell key) figures are recorded, not guarded: a difference of two is noise. Threshold-and-round
    figures go through the differencing guard against the figures of the same datasets released to the
    organisation before, whichever endpoint and level released them, compared over their base areas (`at_base`:
    a district as its wards), on a line of the answer's figures (all the guard needs); an answer all of whose figures
    the organisation was shown before alike (same value and rule) is released without the search (`nothing_new`),
    and one whose figures are exactly those of an answer it was given before (the same digest: every field, in
    order, `sharing_protocols.release_record.ReleasedAnswer`) without the look-up either: one probe of the digest.
    `margins` False: the endpoint shows the table's cells only (rates, trends, OGC items), so only they are
    released, recorded and guarded. `periods`: the table's periods when they are not the query's (trends add the
    periods they compare with). `memo` (`api.memo.AnswerMemos.figures`): a count table's figures, base areas, rows
    and digest are those worked out before for the same table and query (pure work); the probe and the guard run
    for every answer, on them.
    """

    session: Session
    wards: WardParents
    caller: Caller
    params: AggregateParams | None = None  # the count query (None: the hook of linked tables, `linked`)
    margins: bool = True
    total: bool = False  # with `margins` False: the endpoint shows the grand total too (hot spots)
    periods: Sequence[Period] | None = None
    memo: Memo[FiguresKey, Worked] | None = None
    released: list[ReleasedFigure] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    _rows: list[FigureRow] = field(default_factory=list, init=False, repr=False)  # each released figure's, to digest
    _digest: tuple[int, bytes] | None = field(default=None, init=False, repr=False)  # of the first n figures released

    def record(self) -> ReleasedAnswer:
        """The figures released, for the release record, with their digest."""
        count = len(self.released)
        if self._digest is None or self._digest[0] != count:
            self._digest = count, digest(self._rows)
        return ReleasedAnswer(tuple(self.released), tuple(self._rows), self._digest[1])

    def __call__(self, resolved: Resolved, table: ProtectedTable) -> ProtectedTable:
        if self.params is None:
            raise TypeError("a Recorder without the count query is handed linked tables (`linked`), not count tables")
        params, rule = self.params, resolved.rule
        found = resolved.periods if self.periods is None else self.periods

        def work() -> Worked:
            placed = [
                (position, figure)
                for position, figure in released_figures(params, found, table, rule)
                if self.margins or len(position) == 1 or (self.total and position == ())
            ]
            return Worked.of(self.wards, params.level, rule, placed)

        # At ward or LSOA level the base areas are the areas; above, the wards must be read for good (an empty read
        # is read again later: what it gave is not kept).
        if self.memo is None or not (params.level in (Level.lsoa, Level.ward) or self.wards.kept()):
            worked = work()
        else:
            key: FiguresKey = (
                params,
                tuple(found),
                tuple(table.cells.items()),
                tuple(tuple(margin.items()) for margin in table.margins),
                table.total,
                rule,
                self.margins,
                self.total,
                self.wards,
            )
            worked = self.memo.made(key, work)
        return self._table(params.level, rule, table, worked)

    def linked(
        self,
        linked: Linked,
        level: Level,
        rule: Rule,
        rows: Sequence[LinkedRow],
        parts: Parts,
        region: frozenset[str] = frozenset(),
    ) -> Parts:
        """`parts` (a table of a linked measure: repeats, cohorts) as released: its figures are recorded and
        guarded as a count table's are (`linked_figures`)."""
        placed = linked_figures(linked, level, rows, parts, rule, region)
        return replace(parts, table=self.release(level, rule, parts.table, placed))

    def release(
        self, level: Level, rule: Rule, table: ProtectedTable, placed: Sequence[tuple[Position, ReleasedFigure]]
    ) -> ProtectedTable:
        """`table` as released: the `placed` figures (what it shows, at `level`) recorded and, under
        threshold-and-round, guarded; the figures withheld are suppressed in the table returned."""
        return self._table(level, rule, table, Worked.of(self.wards, level, rule, placed))

    def _table(self, level: Level, rule: Rule, table: ProtectedTable, worked: Worked) -> ProtectedTable:
        """`table` as released, its figures `worked` out."""
        figures = [figure for _, figure in worked.placed]
        after = self._guarded(level, rule, figures, worked)
        stopped = [
            position for (position, _), before, now in zip(worked.placed, figures, after, strict=True) if before != now
        ]
        return withhold(table, stopped) if stopped else table

    def apart(self, level: Level, rule: Rule, figures: Sequence[ReleasedFigure]) -> list[int | None]:
        """Figures shown apart from any table (a scorecard indicator's counts) as released: recorded and guarded as
        a table's figures are; None where suppressed or withheld."""
        if not figures:
            return []
        worked = Worked.of(self.wards, level, rule, [((), figure) for figure in figures])
        return [figure.value for figure in self._guarded(level, rule, figures, worked)]

    def _guarded(
        self, level: Level, rule: Rule, figures: Sequence[ReleasedFigure], worked: Worked
    ) -> list[ReleasedFigure]:
        """`figures` (at `level`, `worked` out) as released: recorded and, under threshold-and-round, guarded (a
        figure the guard withholds comes back suppressed, why kept in `reasons`)."""
        if not figures:
            return []
        rows = list(worked.rows)
        if rule.method == "cell_key":
            self._release(figures, rows, None if self._rows else worked.digest)
            return list(figures)
        org = recipient(self.caller)
        new = list(worked.based)
        # Released so far and now exactly as an answer the organisation was given before: every figure was shown
        # to it alike, so nothing is new (as `nothing_new` would find after its look-up). The digest of all released
        # so far and now: the work's own (worked out once) when nothing was released before.
        probe = digest([*self._rows, *rows]) if self._rows else worked.digest
        if repeated(self.session, org, probe) is not None:
            self._release(new, rows, probe)
            return list(figures)
        compared = [figure.at_base() for figure in new]
        base = compared[0].level if compared else level.value
        guarded, withheld = list(compared), list[Withheld]()
        if compared and not nothing_new(compared, shown_alike(self.session, org, base, compared)):
            asked = categories_asked(self.session, org, sorted({figure.dataset for figure in new}), base)
            earlier = earlier_figures(self.session, org, base, lines(compared, asked), MAX_EARLIER + 1)
            guarded, withheld = guard(earlier, compared, asked)
        if all(before is after for before, after in zip(compared, guarded, strict=True)):
            self._release(new, rows, probe)
        else:
            shown = [
                (figure, row) if before is after else (replace(figure, value=after.value), None)
                for figure, row, before, after in zip(new, rows, compared, guarded, strict=True)
            ]
            self._release([f for f, _ in shown], [canonical(f) if row is None else row for f, row in shown])
        self.reasons.extend(f"{named(new[w.index])}: {w.reason}" for w in withheld)
        return [
            figure if before is after or before == after else replace(figure, value=None)
            for figure, before, after in zip(figures, compared, guarded, strict=True)
        ]

    def _release(
        self, figures: Sequence[ReleasedFigure], rows: Sequence[FigureRow], known: bytes | None = None
    ) -> None:
        """Add `figures` (their digest's `rows`) to those released; `known`: the digest of all released then."""
        self.released.extend(figures)
        self._rows.extend(rows)
        if known is not None:
            self._digest = len(self.released), known

    def disclosed(self, disclosure: DisclosureOut) -> DisclosureOut:
        """The answer's disclosure member, saying which figures the guard withheld and why."""
        return disclosure.model_copy(update={"withheld": self.reasons}) if self.reasons else disclosure
