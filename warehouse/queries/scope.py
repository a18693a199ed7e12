"""Geographic scope at query time: events justified by a scoped clause count only inside the caller's areas."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sharing_protocols.protocol import ScopeLevel

# The event (and event_count) column holding the code of each scope level.
SCOPE_COLUMN: dict[ScopeLevel, str] = {
    "district": "district_code",
    "csp": "csp_code",
    "county": "county_code",
    "pfa": "pfa_code",
}


@dataclass(frozen=True)
class ScopeFilter:
    """Events released under `refs` are the caller's only where their code at `level` is one of `codes`."""

    refs: tuple[str, ...]
    level: ScopeLevel
    codes: tuple[str, ...]

    def describe(self) -> dict[str, object]:
        """The scope as an answer states it."""
        return {"clauses": list(self.refs), "level": self.level, "codes": list(self.codes)}


def released_under(refs: Sequence[str], scopes: Sequence[ScopeFilter], alias: str = "e") -> tuple[str, dict[str, Any]]:
    """A SQL condition on `alias` (an `event` or `event_count` row) and its parameters: the row was released under
    one of `refs`, and, for a ref with a scope, lies inside it. Binds `refs` (the unscoped ones) and `scope_*`."""
    scoped = {ref for scope in scopes for ref in scope.refs}
    params: dict[str, Any] = {"refs": [ref for ref in refs if ref not in scoped]}
    parts = [f"{alias}.protocols && CAST(:refs AS text[])"]
    for i, scope in enumerate(scopes):
        parts.append(
            f"({alias}.protocols && CAST(:scope_refs_{i} AS text[]) "
            f"AND {alias}.{SCOPE_COLUMN[scope.level]} = ANY(CAST(:scope_codes_{i} AS text[])))"
        )
        params[f"scope_refs_{i}"] = [ref for ref in scope.refs if ref in refs]
        params[f"scope_codes_{i}"] = list(scope.codes)
    return ("(" + " OR ".join(parts) + ")" if scopes else parts[0]), params


def granting_refs(refs: Sequence[str], scopes: Sequence[ScopeFilter], alias: str = "e") -> tuple[str, dict[str, Any]]:
    """A SQL array expression: the row's clause refs that grant it to the caller (scoped ones only inside their
    scope), with the parameters of `released_under`."""
    _, params = released_under(refs, scopes, alias)
    tests = ["r = ANY(CAST(:refs AS text[]))"]
    for i, scope in enumerate(scopes):
        tests.append(
            f"(r = ANY(CAST(:scope_refs_{i} AS text[])) "
            f"AND {alias}.{SCOPE_COLUMN[scope.level]} = ANY(CAST(:scope_codes_{i} AS text[])))"
        )
    return f"ARRAY(SELECT r FROM unnest({alias}.protocols) r WHERE {' OR '.join(tests)} ORDER BY r)", params
