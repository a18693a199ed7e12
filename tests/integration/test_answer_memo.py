"""A count table's figure work through the app's memo (`api.memo`, `api.released_figures.Recorder`): the answer
released, recorded and digested is the one worked out without it, under threshold-and-round and the cell key
method; a table with one cell changed by 1 is worked out again; and the memo keeps nothing of an organisation: one
whose history makes figures withheld still gets the guard's withholding on a table another organisation was just
given (the memo's work, not its release), and the record of each holds what each was shown.

Against the real database (the probe, the guard's look-ups, the record as `write_access` writes it), at ward level
(its own base: no lookups needed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

import pytest
from sqlalchemy.orm import Session

from api.aggregate_query import Grouping, Resolved, make_params
from api.caller import Caller
from api.memo import AnswerMemos
from api.released_figures import Recorder
from api.ward_parents import WardParents
from sharing_protocols.disclosure import Key, ProtectedTable, Rule, protect
from sharing_protocols.periods import PeriodType, periods
from sharing_protocols.release_record import ReleasedAnswer, ReleasedFigure
from tests.support.hub import HubEnv
from warehouse.governance.access_log import write_access
from warehouse.queries.aggregates import CountQuery, Level
from warehouse.queries.releases import releases
from warehouse.schema.db import session_scope

pytestmark = pytest.mark.integration

THRESHOLD = Rule(5, 1, "protocol", ("memo@1#exact-above-5",))
CELL_KEY = Rule(8, 5, "protocol", ("memo@1#cell-key",), "cell_key", "hub-cell-key@1")
W1, W2, W3 = "E05000101", "E05000102", "E05000103"
JAN, DEC = date(2024, 1, 1), date(2024, 12, 1)


@dataclass(frozen=True)
class Given:
    """What one count table's release gave: the table as released, the guard's reasons, the record."""

    table: ProtectedTable
    reasons: list[str]
    record: ReleasedAnswer


def _give(
    hub_env: HubEnv,
    wards: WardParents,
    org: str,
    cells: dict[Key, int],
    rule: Rule,
    memos: AnswerMemos | None,
    period: PeriodType = PeriodType.month,
    to: str = "2024-01",
    by: list[Grouping] | None = None,
) -> tuple[Recorder, Given]:
    """Release the protected table of `cells` to `org` as /v1/counts does (with the app's `wards`, through `memos`'
    figures, if any)."""
    params = make_params(["police-records"], "2024-01", to, Level.ward, period, by, None, None, None, None, "json")
    found = periods(period, params.start, params.end)
    resolved = Resolved(CountQuery(params.datasets, params.level, params.start, params.end, ()), found, [], rule)
    memo = None if memos is None else memos.figures
    recorder = Recorder(Session(hub_env.engine), wards, Caller(org, "analyst"), params, memo=memo)
    try:
        table = recorder(resolved, protect(cells, rule, len(params.dimensions)))
    finally:
        recorder.session.close()
    return recorder, Given(table, list(recorder.reasons), recorder.record())


def _write(hub_env: HubEnv, org: str, recorder: Recorder) -> None:
    record = recorder.record()
    write_access(hub_env.engine, org, "analyst", "/v1/counts", {}, [], len(record.figures), 200, record)


def _shown(hub_env: HubEnv, org: str) -> list[ReleasedFigure]:
    with session_scope(hub_env.engine) as session:
        return [release.figure for release in releases(session, org, date.today(), date.today())]


def _category_cells(counts: dict[str, tuple[int, ...]]) -> dict[Key, int]:
    return {(ward, c, "2024-01"): n[i] for c, n in counts.items() for i, ward in enumerate((W1, W2))}


def _unbased(figures: Sequence[ReleasedFigure]) -> list[ReleasedFigure]:
    """`figures` as the IG record shows them (their base areas apart)."""
    return [replace(f, base_level=None, base_areas=None) for f in figures]


def _month_cells(n: int, months: int) -> dict[Key, int]:
    return {(f"E0500{i:04d}", f"2024-{m:02d}"): (i * 5 + m * 3) % 17 for i in range(n) for m in range(1, months + 1)}


TABLES: list[tuple[str, dict[Key, int], PeriodType, str, list[Grouping]]] = [
    ("one-cell", {(W1, "2024-01"): 12}, PeriodType.month, "2024-01", []),
    ("wards-by-month", _month_cells(9, 12), PeriodType.month, "2024-12", []),
    ("quarters", {(f"E0500{i:04d}", f"2024-Q{q}"): i + q for i in range(6) for q in (1, 2)}, PeriodType.quarter,
     "2024-06", []),
    ("categories", _category_cells({"theft": (3, 6), "assault": (9, 1), "fraud": (14, 20)}), PeriodType.month,
     "2024-01", ["category"]),
]  # fmt: skip


@pytest.mark.parametrize("rule", [THRESHOLD, CELL_KEY], ids=["threshold", "cell-key"])
@pytest.mark.parametrize(("name", "cells", "period", "to", "by"), TABLES, ids=[t[0] for t in TABLES])
def test_an_answer_through_the_memo_is_the_answer_worked_out_without_it(
    hub_env: HubEnv, rule: Rule, name: str, cells: dict[Key, int], period: PeriodType, to: str, by: list[Grouping]
) -> None:
    memos, wards = AnswerMemos(), WardParents(hub_env.engine, hub_env.geography)
    org = f"memo-same-{name}-{rule.method}"
    _, first = _give(hub_env, wards, org, cells, rule, memos, period, to, by)
    _, again = _give(hub_env, wards, org, cells, rule, memos, period, to, by)
    _, plain = _give(hub_env, wards, org, cells, rule, None, period, to, by)
    assert again == plain == first
    assert again.record.digest == ReleasedAnswer.of(plain.record.figures).digest  # the rows' digest, made anew
    assert len(memos.figures) == 1
    assert all(a is b for a, b in zip(again.record.figures, first.record.figures, strict=True))  # the memo's


def test_a_table_with_one_cell_changed_by_one_is_worked_out_again(hub_env: HubEnv) -> None:
    memos, wards = AnswerMemos(), WardParents(hub_env.engine, hub_env.geography)
    cells = _month_cells(5, 3)
    _give(hub_env, wards, "memo-changed", cells, THRESHOLD, memos, to="2024-03")
    changed = {**cells, ("E05000002", "2024-02"): cells[("E05000002", "2024-02")] + 1}
    _, given = _give(hub_env, wards, "memo-changed", changed, THRESHOLD, memos, to="2024-03")
    _, plain = _give(hub_env, wards, "memo-changed", changed, THRESHOLD, None, to="2024-03")
    assert given == plain and len(memos.figures) == 2
    assert [f.value for f in given.record.figures] != [f.value for f in _give(
        hub_env, wards, "memo-changed", cells, THRESHOLD, None, to="2024-03")[1].record.figures]  # fmt: skip


def test_an_organisation_with_a_differencing_history_is_withheld_on_a_table_another_was_just_given(
    hub_env: HubEnv,
) -> None:
    """B was given ward W1's year (30); W1's January (26) would give February to December (4) away. A, with no
    history, is given W1's January; B asks the same table through the same memo: its work is A's (the same
    figure objects), its release the guard's."""
    memos, wards = AnswerMemos(), WardParents(hub_env.engine, hub_env.geography)
    given, asking, control = "memo-a", "memo-b", "memo-b-without"
    year = ReleasedFigure("police-records", "ward", frozenset({W1}), None, JAN, DEC, "2024-01 to 2024-12", 30, 5, 1,
                          THRESHOLD.clauses)  # fmt: skip
    for org in (asking, control):
        history = Recorder(Session(hub_env.engine), wards, Caller(org, "analyst"))
        assert history.apart(Level.ward, THRESHOLD, [year]) == [30]
        history.session.close()
        _write(hub_env, org, history)
    cells: dict[Key, int] = {(W1, "2024-01"): 26, (W2, "2024-01"): 10, (W3, "2024-01"): 12}

    recorder_a, a = _give(hub_env, wards, given, cells, THRESHOLD, memos)
    _write(hub_env, given, recorder_a)
    recorder_b, b = _give(hub_env, wards, asking, cells, THRESHOLD, memos)
    _write(hub_env, asking, recorder_b)
    _, without = _give(hub_env, wards, control, cells, THRESHOLD, None)

    assert len(memos.figures) == 1 and b.record.figures[1] is a.record.figures[1]  # B's work was the memo's
    assert a.table.cells[(W1, "2024-01")] == 26 and not a.reasons
    assert b.table.cells[(W1, "2024-01")] is None and b.reasons  # withheld: the guard ran for B
    assert b.table == without.table and b.reasons == without.reasons and b.record == without.record
    assert all(f.value != 26 for f in b.record.figures if f.areas == {W1})
    assert _shown(hub_env, given) == _unbased(a.record.figures)  # the record keeps the figures as released
    assert _shown(hub_env, asking) == _unbased([year, *b.record.figures])
