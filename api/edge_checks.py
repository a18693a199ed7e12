"""What the edge (`api.edge`) checks of every request before routing, and what of its query the access log keeps.

Refused with 400 before anything else reads them: control characters (C0 and DEL) in the path or in any query
parameter's name or value, and a credential in the query string (`api_key`, `key`, `apikey`, `token`,
`access_token`, any case). Neither the bytes nor a credential's value is ever echoed or logged. Refused with 431:
request headers over `MAX_HEADERS` bytes in all or `MAX_HEADER` bytes in one (name and value); the refusal names
the header, never its value.

The access log keeps the route's own parameters (each value cut to `MAX_VALUE` characters, a repeated one as a
list of at most `MAX_REPEATS`), lists any other parameters by name only (at most `MAX_NAMES`, each cut to
`MAX_NAME`), and stops adding once the record would pass `MAX_QUERY` characters of JSON (`"…": "truncated"`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

CONTROL = re.compile(r"[\x00-\x1f\x7f]")
CREDENTIAL_NAMES = frozenset({"api_key", "key", "apikey", "token", "access_token"})
MAX_VALUE = 200
MAX_REPEATS = 50
MAX_NAME = 50
MAX_NAMES = 20
MAX_QUERY = 2048
MAX_ENDPOINT = 200
MAX_HEADERS = 16 * 1024  # all request headers: names, values and 4 bytes (": ", CRLF) each
MAX_HEADER = 8 * 1024  # one header: its name and value
UNKNOWN = "_unknown"  # the key under which parameters the route does not take are listed by name
TRUNCATED = "_truncated"


@dataclass(frozen=True)
class Refusal:
    """Why the edge refuses a request: the parameter or header it names (made safe to show), the reason and the
    status."""

    parameter: str
    detail: str
    status: int = 400


def printable(text: str, limit: int = MAX_NAME) -> str:
    """`text` with control characters replaced by '?', cut to `limit` characters: safe to show and to log."""
    return CONTROL.sub("?", text)[:limit]


def refusal(path: str, pairs: Sequence[tuple[str, str]]) -> Refusal | None:
    """The first reason to refuse a request with this (decoded) path and these query parameters, or None."""
    if CONTROL.search(path):
        return Refusal("path", "the path contains control characters")
    for name, value in pairs:
        if name.lower() in CREDENTIAL_NAMES:
            return Refusal(
                printable(name), f"{printable(name)}: API keys go in the Authorization header, never the query string"
            )
        if CONTROL.search(name) or CONTROL.search(value):
            where = printable(name)
            return Refusal(where, f"query parameter {where!r} contains control characters")
    return None


def oversized_headers(headers: Sequence[tuple[bytes, bytes]]) -> Refusal | None:
    """A 431 refusal when the (raw) request headers pass `MAX_HEADER` bytes in one or `MAX_HEADERS` in all."""
    total = 0
    for name, value in headers:
        size = len(name) + len(value)
        if size > MAX_HEADER:
            where = printable(name.decode("latin-1"))
            return Refusal(where, f"the header {where!r} is over {MAX_HEADER} bytes", 431)
        total += size + 4
    if total > MAX_HEADERS:
        return Refusal("headers", f"the request headers are over {MAX_HEADERS} bytes in all", 431)
    return None


def logged_query(pairs: Sequence[tuple[str, str]], known: Collection[str]) -> dict[str, Any]:
    """The query as the access log keeps it: the `known` parameters' values, bounded; other names only."""
    values: dict[str, list[str]] = {}
    others: list[str] = []
    for name, value in pairs:
        if name in known and name.lower() not in CREDENTIAL_NAMES and not CONTROL.search(name + value):
            values.setdefault(name, []).append(value[:MAX_VALUE])
        elif (safe := printable(name)) not in others and len(others) < MAX_NAMES:
            others.append(safe)
    record: dict[str, Any] = {}
    for name, found in values.items():
        kept: Any = found[0] if len(found) == 1 else found[:MAX_REPEATS]
        if not _fits(record, name, kept):
            record[TRUNCATED] = True
            return record
        record[name] = kept
    if others and not _fits(record, UNKNOWN, others):
        record[TRUNCATED] = True
    elif others:
        record[UNKNOWN] = others
    return record


def _fits(record: dict[str, Any], name: str, value: Any) -> bool:
    return len(json.dumps({**record, name: value, TRUNCATED: True})) <= MAX_QUERY


def logged_endpoint(path: str) -> str:
    """The path as the access log keeps it (bounded; a refused path's control characters replaced)."""
    return printable(path, MAX_ENDPOINT)
