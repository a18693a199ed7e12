"""The append-only access log: one record per API query, and the release record of its answer."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, text

from sharing_protocols.postcode_format import sector
from sharing_protocols.release_record import FIELDS, ReleasedAnswer

# A queried place could be someone's address: the log keeps it no finer than about a kilometre.
_COARSE_DEGREES = {"lat": 2, "lon": 2}  # decimals kept (0.01 degree is about 1 km)
_COARSE_METRES = ("easting", "northing")  # rounded to the kilometre


def _coarse(key: str, value: str) -> str:
    """A query parameter as the log keeps it: a postcode's sector, a coordinate to about 1 km."""
    if key == "postcode":
        return sector(value) or "invalid"
    try:
        if key in _COARSE_DEGREES:
            return f"{float(value):.{_COARSE_DEGREES[key]}f}"
        if key in _COARSE_METRES:
            return str(round(float(value) / 1000) * 1000)
    except (ValueError, OverflowError):  # not a number, or not a finite one
        return "invalid"
    return value


def _coarse_value(key: str, value: Any) -> Any:
    """`_coarse` of a parameter's value, or of each of its values when it was repeated."""
    if isinstance(value, str):
        return _coarse(key, value)
    if isinstance(value, list):
        return [_coarse(key, v) if isinstance(v, str) else v for v in value]
    return value


def write_access(
    engine: Engine,
    org: str,
    role: str,
    endpoint: str,
    query: Mapping[str, Any],
    protocols: Sequence[str],
    rows: int,
    status: int,
    released: ReleasedAnswer | None = None,
) -> None:
    """Append one access record, in its own transaction so that a failed request is still recorded, and in the
    same transaction the figures the answer released to `org` (the release record): one row saying "the figures of
    access M again" when `org` was given an answer of the same digest (access M) before, else a row per figure
    and the answer's digest.

    `query` maps a parameter to its value or its values (a list); a postcode in it is kept as its sector,
    coordinates to about a kilometre (see `_coarse`).
    """
    with engine.begin() as conn:
        access_id = conn.execute(
            text(
                "INSERT INTO access_log (org, role, endpoint, query, protocols, rows, status) "
                "VALUES (:org, :role, :endpoint, CAST(:query AS jsonb), :protocols, :rows, :status) RETURNING id"
            ),
            {
                "org": org,
                "role": role,
                "endpoint": endpoint,
                "query": json.dumps({k: _coarse_value(k, v) for k, v in query.items()}),
                "protocols": list(protocols),
                "rows": rows,
                "status": status,
            },
        ).scalar_one()
        if released is not None and released.figures:
            _record_released(conn, int(access_id), org, released)


_AGAIN = """
INSERT INTO released_again (access_id, of_access_id, org)
SELECT :access_id, access_id, org FROM released_digest WHERE org = :org AND digest = :digest
RETURNING of_access_id
"""

# The figures in their order (their ids ascend with it) and, in the same statement, the answer's digest with the
# range of their ids, which is how `release_record` finds them again (no index of access_id to maintain). A digest
# kept already (the same answer recorded at the same time by another request) stays the first's.
_RECORD = """
WITH figure AS (
    INSERT INTO released_figure (access_id, org, dataset, level, areas, categories, first_month, last_month, period,
        value, min_cell_count, round_to, clauses, base_level, base_areas)
    SELECT :access_id, :org, f.dataset, f.level, f.areas, f.categories, f.first, f.last, f.period, f.value,
        f.min_cell_count, f.round_to, f.clauses, f.base_level, f.base_areas
    FROM jsonb_to_recordset(CAST(:figures AS jsonb)) AS f(n integer, dataset text, level text, areas text[],
        categories text[], first date, last date, period text, value integer, min_cell_count integer,
        round_to integer, clauses text[], base_level text, base_areas text[])
    ORDER BY f.n
    RETURNING id
)
INSERT INTO released_digest (org, digest, access_id, first_figure_id, last_figure_id)
SELECT :org, :digest, :access_id, min(id), max(id) FROM figure
ON CONFLICT DO NOTHING
"""


def _record_released(conn: Connection, access_id: int, org: str, released: ReleasedAnswer) -> None:
    """Append the figures of one answer to the release record: as the figures of an earlier access again when `org`
    was given that access's digest, else each in one statement, in their order (bounded: an answer's cells are
    bounded by the API's limits on areas, periods and categories, and its margins by its cells)."""
    keys = {"access_id": access_id, "org": org, "digest": released.digest}
    if conn.execute(text(_AGAIN), keys).first() is not None:
        return
    figures = [{"n": n, **dict(zip(FIELDS, row, strict=True))} for n, row in enumerate(released.rows)]
    conn.execute(text(_RECORD), {**keys, "figures": json.dumps(figures)})
