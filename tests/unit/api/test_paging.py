"""A page of a list answer: `limit` rows from `offset`, and the rows answered are the page's."""

from __future__ import annotations

from api.answer import Answer
from api.paging import Page, paged


def test_a_page_is_the_rows_from_offset_up_to_limit_and_counts_only_them() -> None:
    answer = Answer(list(range(25)), ["p@1#c"], 25)
    pages = [paged(answer, Page(limit=10, offset=start)) for start in (0, 10, 20, 30)]
    assert [p.body for p in pages] == [list(range(10)), list(range(10, 20)), list(range(20, 25)), []]
    assert [p.rows for p in pages] == [10, 10, 5, 0]
    assert all(p.protocols == ["p@1#c"] for p in pages)
