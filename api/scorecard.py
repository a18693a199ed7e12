"""A scorecard row: an indicator's figure for the latest 12 months against its target (RAG) and the year before.

Pure logic. The figures come from the counts/rates query layer and the significance test is injected, so a row is
built the same way for any source of figures or test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal, Protocol

from api import significance
from sharing_protocols.periods import add_months, financial_year
from warehouse.reference.indicator_registry import Direction, Indicator, MeasureKind

Rag = Literal["green", "amber", "red", "grey"]  # grey: no target for the area and year
Travel = Literal["improving", "worsening", "no significant change"]


class Significance(Protocol):
    """What a significance test says about a change between two counts (api.significance.Change has it)."""

    @property
    def significant(self) -> bool: ...


CompareCounts = Callable[[int, int], Significance]  # (current events, base events) -> Significance


@dataclass(frozen=True)
class Window:
    """The 12 reported months (first and last, as day 1) and whether they include provisional data."""

    start: date
    end: date
    provisional: bool

    @property
    def previous_start(self) -> date:
        return add_months(self.start, -12)

    @property
    def previous_end(self) -> date:
        return add_months(self.end, -12)


def reporting_window(indicator: Indicator, latest_month: date) -> Window:
    """The 12 months ending `data_lag_months` before the latest month with data.

    The latest `provisional_months` months of data are provisional; the window is provisional when it ends in one.
    """
    latest = latest_month.replace(day=1)
    end = add_months(latest, -indicator.data_lag_months)
    provisional = end > add_months(latest, -indicator.provisional_months)
    return Window(add_months(end, -11), end, provisional)


@dataclass(frozen=True)
class Figure:
    """An indicator's value for 12 months (a count, or a rate per the denominator's `per`) and its event count."""

    value: float
    events: int


def _decimal(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def rag(actual: float, target: float | None, direction: Direction, tolerance_pct: float) -> Rag:
    """Green when `actual` meets or beats `target` in the direction of good; amber when it misses by no more than
    `tolerance_pct` percent of the target; red otherwise; grey when there is no target.

    Compared as the decimals written (so 105 against 100 at 5% is exactly on the amber edge).
    """
    if target is None:
        return "grey"
    a, t = _decimal(actual), _decimal(target)
    shortfall = a - t if direction == "lower_is_better" else t - a
    if shortfall <= 0:
        return "green"
    if shortfall * 100 <= _decimal(tolerance_pct) * abs(t):
        return "amber"
    return "red"


def direction_of_travel(direction: Direction, actual: float, previous: float, significant: bool) -> Travel:
    """Improving or worsening when the change is significant, judged by the direction of good."""
    if not significant or actual == previous:
        return "no significant change"
    better = actual < previous if direction == "lower_is_better" else actual > previous
    return "improving" if better else "worsening"


@dataclass(frozen=True)
class ScorecardRow:
    """One indicator for one area: actual, target, RAG and direction of travel against the 12 months before."""

    indicator_id: str
    title: str
    area_code: str
    measure: MeasureKind
    direction: Direction
    period_start: date
    period_end: date
    financial_year: str  # the April-March year of period_end, whose target applies
    actual: float
    events: int
    target: float | None
    target_is_area_override: bool
    rag: Rag
    previous: float | None  # the 12 months before; None when there is no figure for them
    change: float | None
    change_pct: float | None  # None also when the previous figure is 0
    significant: bool | None
    direction_of_travel: Travel | None
    provisional: bool


def scorecard_row(
    indicator: Indicator,
    area_code: str,
    window: Window,
    actual: Figure,
    previous: Figure | None,
    *,
    p_value: float | None = None,
    compare: CompareCounts = significance.compare,
    alpha: float = 0.05,
) -> ScorecardRow:
    """The scorecard row of `indicator` for `area_code` over `window`.

    The change from `previous` is significant when `p_value` (if given) is below `alpha`; otherwise `compare` tests
    the event counts, and its verdict counts only when the figure moved the same way as the events (a rate can move
    against its count when the population changes).
    """
    year = financial_year(window.end)
    target = indicator.target_for(area_code, year)
    significant: bool | None = None
    travel: Travel | None = None
    change = change_pct = None
    if previous is not None:
        change = actual.value - previous.value
        change_pct = None if previous.value == 0 else change / previous.value * 100
        if p_value is not None:
            significant = p_value < alpha
        else:
            events_change = actual.events - previous.events
            agrees = events_change * change > 0
            significant = agrees and compare(actual.events, previous.events).significant
        travel = direction_of_travel(indicator.direction, actual.value, previous.value, significant)
    return ScorecardRow(
        indicator_id=indicator.id,
        title=indicator.title,
        area_code=area_code,
        measure=indicator.measure,
        direction=indicator.direction,
        period_start=window.start,
        period_end=window.end,
        financial_year=year,
        actual=actual.value,
        events=actual.events,
        target=None if target is None else target.value,
        target_is_area_override=target is not None and target.area_code is not None,
        rag=rag(actual.value, None if target is None else target.value, indicator.direction, indicator.tolerance_pct),
        previous=None if previous is None else previous.value,
        change=change,
        change_pct=change_pct,
        significant=significant,
        direction_of_travel=travel,
        provisional=window.provisional,
    )
