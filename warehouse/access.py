"""The append-only access log: one record per API query."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from sqlalchemy import text

from warehouse.db import get_engine
from warehouse.postcode_format import sector


def write_access(
    org: str, role: str, endpoint: str, query: Mapping[str, str], protocols: Sequence[str], rows: int, status: int
) -> None:
    """Append one access record, in its own transaction so that a failed request is still recorded.

    A postcode in the query could be someone's address: only its sector is kept.
    """
    with get_engine().begin() as conn:
        conn.execute(
            text(
                "INSERT INTO access_log (org, role, endpoint, query, protocols, rows, status) "
                "VALUES (:org, :role, :endpoint, CAST(:query AS jsonb), :protocols, :rows, :status)"
            ),
            {
                "org": org,
                "role": role,
                "endpoint": endpoint,
                "query": json.dumps({k: (sector(v) or "invalid") if k == "postcode" else v for k, v in query.items()}),
                "protocols": list(protocols),
                "rows": rows,
                "status": status,
            },
        )
