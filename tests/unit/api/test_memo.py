"""The memo of an answer's pure work (`api.memo`): bounded by entries and weight, least recently used first out;
and protected tables through it (`api.protection.protect_cells`) are the tables made without it, while a table
whose one cell changed by 1 is made again."""

from __future__ import annotations

from functools import partial

import pytest

from api.bounds import MAX_SUPPRESSED_TABLE_CELLS
from api.errors import BadRequest
from api.memo import AnswerMemos, Memo
from api.perturbation_tables import PerturbationTables, load_table
from api.protection import protect_cells
from sharing_protocols.cell_key_release import KeyedCount
from sharing_protocols.disclosure import Key, Rule

THRESHOLD = Rule(5, 5, "protocol", ("p@1#c",))
CELL_KEY = Rule(8, 5, "protocol", ("p@1#c",), "cell_key", "hub-cell-key@1")
TABLES = PerturbationTables([load_table("hub-cell-key@1")])


def _cells(n: int, shift: int = 0) -> dict[Key, KeyedCount]:
    return {(f"E0{i:07d}", f"2024-{1 + i % 12:02d}"): KeyedCount((i * 7 + shift) % 23, i * 131) for i in range(n)}


def test_the_entry_cap_drops_the_least_recently_used() -> None:
    memo: Memo[str, list[int]] = Memo(len, entries=2, weight=100)
    memo.put("a", [1])
    memo.put("b", [2])
    assert memo.get("a") == [1]  # now "b" is the least recently used
    memo.put("c", [3])
    assert (memo.get("a"), memo.get("b"), memo.get("c")) == ([1], None, [3])
    assert len(memo) == 2 and memo.held == 2


def test_the_weight_cap_drops_until_the_rest_fit_and_a_result_too_heavy_alone_is_not_kept() -> None:
    memo: Memo[str, list[int]] = Memo(len, entries=10, weight=5)
    memo.put("a", [1, 1])
    memo.put("b", [2, 2])
    memo.put("c", [3, 3, 3])  # 7 > 5: "a" goes, then 5 fits
    assert (memo.get("a"), memo.get("b"), memo.get("c")) == (None, [2, 2], [3, 3, 3])
    assert memo.held == 5
    memo.put("d", [4] * 6)
    assert memo.get("d") is None and memo.held == 5 and len(memo) == 2
    memo.put("b", [9])  # kept again: its old weight given back
    assert memo.held == 4 and memo.get("b") == [9]


def test_made_makes_once_per_key() -> None:
    memo: Memo[int, list[int]] = Memo(len)
    made: list[int] = []

    def make(n: int) -> list[int]:
        made.append(n)
        return [n]

    assert [memo.made(k, partial(make, k)) for k in (1, 2, 1, 1, 2)] == [[1], [2], [1], [1], [2]]
    assert made == [1, 2]


@pytest.mark.parametrize("rule", [THRESHOLD, CELL_KEY], ids=["threshold", "cell-key"])
@pytest.mark.parametrize("n", [1, 12, 40, 150])
def test_a_protected_table_through_the_memo_is_the_table_made_without_it(rule: Rule, n: int) -> None:
    memos = AnswerMemos()
    first = protect_cells(_cells(n), rule, 2, TABLES, memos.tables)
    again = protect_cells(_cells(n), rule, 2, TABLES, memos.tables)
    assert first == protect_cells(_cells(n), rule, 2, TABLES) == again
    assert again is first and len(memos.tables) == 1  # the second was the memo's


@pytest.mark.parametrize("rule", [THRESHOLD, CELL_KEY], ids=["threshold", "cell-key"])
def test_one_cell_changed_by_one_misses_the_memo(rule: Rule) -> None:
    memos = AnswerMemos()
    cells = _cells(40)
    protect_cells(cells, rule, 2, TABLES, memos.tables)
    key = next(iter(cells))
    changed = {**cells, key: KeyedCount(cells[key].count + 1, cells[key].key)}
    table = protect_cells(changed, rule, 2, TABLES, memos.tables)
    assert table == protect_cells(changed, rule, 2, TABLES)
    assert len(memos.tables) == 2
    other_rule = protect_cells(cells, Rule(3, 1, "protocol", ("p@1#c",)), 2, TABLES, memos.tables)
    assert other_rule == protect_cells(cells, Rule(3, 1, "protocol", ("p@1#c",)), 2, TABLES)
    assert len(memos.tables) == 3


def test_the_table_bound_holds_through_the_memo() -> None:
    memos = AnswerMemos(weight=10 * MAX_SUPPRESSED_TABLE_CELLS)
    big: dict[Key, KeyedCount] = {
        (f"E0{i:07d}", "2019-01"): KeyedCount(1, i) for i in range(MAX_SUPPRESSED_TABLE_CELLS + 1)
    }
    protect_cells(big, CELL_KEY, 2, TABLES, memos.tables)  # kept under the cell key rule (not bounded)
    with pytest.raises(BadRequest):
        protect_cells(big, THRESHOLD, 2, TABLES, memos.tables)
    assert len(memos.tables) == 1
