"""What the release record holds: the figures released to organisations (read back for the IG view), the
differencing guard's history kept from it (`known_figure`: each figure an organisation was shown, once), and the
digests of the answers an organisation was given (`released_digest`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from sharing_protocols.differencing import Alike, Line, alike
from sharing_protocols.release_record import ReleasedFigure

_COLUMNS = (
    "at, org, dataset, level, areas, categories, first_month, last_month, period, value, min_cell_count, round_to, "
    "clauses"
)


@dataclass(frozen=True)
class Release:
    """One figure released to `org` at `at`."""

    at: datetime
    org: str
    figure: ReleasedFigure


def _figure(row: Sequence[Any], clauses: Sequence[str] = ()) -> ReleasedFigure:
    """The figure of a row of (dataset, level, areas, categories, first, last, period, value, min_cell_count,
    round_to)."""
    dataset, level, areas, categories, first, last, period, value, min_cell_count, round_to = row
    return ReleasedFigure(
        dataset=dataset,
        level=level,
        areas=frozenset(areas),
        categories=None if categories is None else frozenset(categories),
        first=first,
        last=last,
        period=period,
        value=value,
        min_cell_count=min_cell_count,
        round_to=round_to,
        clauses=tuple(clauses),
    )


def _release(row: Sequence[Any]) -> Release:
    at, org, *figure, clauses = row
    return Release(at, org, _figure(figure, clauses))


def releases(session: Session, org: str | None, first: date, last: date) -> list[Release]:
    """Figures released on days first..last (to one organisation, or to all), answer by answer in the order they
    were released, each in the order shown: read from `release_record` (migration 0028), so that an answer recorded
    as another's figures again lists those figures, at its own time."""
    rows = session.execute(
        text(
            f"SELECT {_COLUMNS} FROM release_record WHERE (:all OR org = :org) "
            "AND at >= :first AND at < CAST(:last AS date) + 1 ORDER BY access_id, figure_id"
        ),
        {"all": org is None, "org": org, "first": first, "last": last},
    ).all()
    return [_release(r) for r in rows]


_EVERY = "coalesce(k.categories, '{}'::text[])"  # every category (NULL) as the lines spell it: {}
_ON_LINES = f"""
WITH line AS (
    SELECT * FROM jsonb_to_recordset(CAST(:lines AS jsonb))
        AS l(dataset text, first date, last date, areas text[], categories text[])
), hit AS (
    SELECT k.first_id FROM line l JOIN known_figure k ON k.org = :org AND k.base_level = :level
        AND k.dataset = l.dataset AND k.first_month = l.first AND k.last_month = l.last AND k.base_areas = l.areas
        WHERE l.categories IS NULL
    UNION
    SELECT k.first_id FROM line l JOIN known_figure k ON k.org = :org AND k.base_level = :level
        AND k.dataset = l.dataset AND {_EVERY} = l.categories AND k.first_month = l.first AND k.last_month = l.last
        WHERE l.areas IS NULL
    UNION
    SELECT k.first_id FROM line l JOIN known_figure k ON k.org = :org AND k.base_level = :level
        AND k.dataset = l.dataset AND k.base_areas = l.areas AND {_EVERY} = l.categories
        WHERE l.first IS NULL
)
SELECT k.dataset, k.base_level, k.base_areas, k.categories, k.first_month, k.last_month, k.period, k.value,
    k.min_cell_count, k.round_to
FROM known_figure k JOIN hit USING (first_id)
ORDER BY k.first_id
LIMIT :limit
"""


def earlier_figures(session: Session, org: str, level: str, lines: Sequence[Line], limit: int) -> list[ReleasedFigure]:
    """The figures released to `org` so far on `lines` at base level `level` (the differencing guard's history, as
    it compares them: `ReleasedFigure.at_base`), alike ones (the same events, value and rule) once, in the order
    first released; at most `limit` of them. Read from `known_figure` (migration 0025), which holds each once."""
    rows = [
        {
            "dataset": line.dataset,
            "first": None if line.months is None else line.months[0].isoformat(),
            "last": None if line.months is None else line.months[1].isoformat(),
            "areas": None if line.areas is None else list(line.areas),
            "categories": None if spelt is None else list(spelt),
        }
        for line in lines
        for spelt in (line.categories or (None,))
    ]
    found = session.execute(
        text(_ON_LINES), {"lines": json.dumps(rows), "org": org, "level": level, "limit": limit}
    ).all()
    return [_figure(row) for row in found]


_ASKED = """
WITH RECURSIVE seen(categories) AS (
    (SELECT coalesce(categories, '{}'::text[]) FROM known_figure
        WHERE org = :org AND base_level = :level AND dataset = :dataset ORDER BY 1 LIMIT 1)
    UNION ALL
    SELECT (SELECT coalesce(f.categories, '{}'::text[]) FROM known_figure f
            WHERE f.org = :org AND f.base_level = :level AND f.dataset = :dataset
            AND coalesce(f.categories, '{}'::text[]) > seen.categories ORDER BY 1 LIMIT 1)
        FROM seen WHERE seen.categories IS NOT NULL
)
SELECT DISTINCT unnest(categories) FROM seen WHERE categories IS NOT NULL
"""


def categories_asked(
    session: Session, org: str, datasets: Sequence[str], level: str
) -> dict[tuple[str, str], frozenset[str]]:
    """Every category a figure of `datasets` at base level `level` released to `org` names (what "every category"
    is taken as), read as the distinct sets of categories released (an index skip scan: as many steps as sets)."""
    return {
        (dataset, level): frozenset(
            str(c) for (c,) in session.execute(text(_ASKED), {"org": org, "level": level, "dataset": dataset}).all()
        )
        for dataset in datasets
    }


_SHOWN = """
SELECT l.i FROM jsonb_to_recordset(CAST(:figures AS jsonb)) AS l(i integer, dataset text, first date, last date,
    areas text[], categories text[], value integer, min_cell_count integer, round_to integer)
WHERE EXISTS (
    SELECT FROM known_figure k WHERE k.org = :org AND k.base_level = :level AND k.dataset = l.dataset
        AND k.first_month = l.first AND k.last_month = l.last AND k.base_areas = l.areas
        AND k.categories IS NOT DISTINCT FROM l.categories AND k.value IS NOT DISTINCT FROM l.value
        AND k.min_cell_count = l.min_cell_count AND k.round_to = l.round_to
)
"""


def shown_alike(session: Session, org: str, level: str, figures: Sequence[ReleasedFigure]) -> set[Alike]:
    """Those of `figures` (at base level `level`, as the guard compares them) that `org` was shown before alike:
    the same events, value and rule (`sharing_protocols.differencing.alike`)."""
    rows = [
        {
            "i": i,
            "dataset": f.dataset,
            "first": f.first.isoformat(),
            "last": f.last.isoformat(),
            "areas": sorted(f.areas),
            "categories": None if f.categories is None else sorted(f.categories),
            "value": f.value,
            "min_cell_count": f.min_cell_count,
            "round_to": f.round_to,
        }
        for i, f in enumerate(figures)
    ]
    found = session.scalars(text(_SHOWN), {"figures": json.dumps(rows), "org": org, "level": level}).all()
    return {alike(figures[i]) for i in found}


def repeated(session: Session, org: str, digest: bytes) -> int | None:
    """The access that released to `org` the figures whose digest is `digest` (`sharing_protocols.release_record.
    ReleasedAnswer`), or None: one look-up of `released_digest`'s key."""
    found = session.scalar(
        text("SELECT access_id FROM released_digest WHERE org = :org AND digest = :digest"),
        {"org": org, "digest": digest},
    )
    return None if found is None else int(found)
