"""Page limits of list endpoints: `limit` rows (at most `MAX_PAGE`) from `offset`; ask again with
offset + limit until a page comes back shorter than `limit`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Annotated, TypeVar

from fastapi import Depends, Query

from api.answer import Answer

DEFAULT_PAGE = 1000
MAX_PAGE = 10_000
MAX_OFFSET = 1_000_000_000
B = TypeVar("B")
R = TypeVar("R")


@dataclass(frozen=True)
class Page:
    """Which rows of a list to answer."""

    limit: int
    offset: int

    def of(self, rows: Sequence[R]) -> Sequence[R]:
        """The page's part of `rows`."""
        return rows[self.offset : self.offset + self.limit]


async def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"rows per page (default {DEFAULT_PAGE})")] = (
        DEFAULT_PAGE
    ),
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="rows to skip (default 0)")] = 0,
) -> Page:
    return Page(limit, offset)


def paged(answer: Answer[list[B]], page: Page) -> Answer[list[B]]:
    """The answer with only the page's rows (and their count as the rows answered), in its table too (whose rows
    are the body's)."""
    rows = list(page.of(answer.body))
    table = None if answer.table is None else replace(answer.table, rows=rows)
    return replace(answer, body=rows, rows=len(rows), table=table)


PageDep = Annotated[Page, Depends(page_params)]
