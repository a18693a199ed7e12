"""Area roll-up lookups (CSV) into `area_lookup` as named vintages, and roll-ups over them.

Which lookup a file is comes from its header (see LOOKUP_FORMATS). Each file contributes fixed child -> parent
edges; loading a file replaces, within the vintage, only the edges that file provides, so the ward, LSOA and CSP
lookups can share one vintage.

Many-to-many rows are kept as they are: the district -> CSP file maps 7 districts to several legacy CSPs, and
each such district has one `area_lookup` row per CSP. `parents` returns them all; `rollup` (what roll-ups use)
takes the smallest parent code, so the answer never depends on load order (the same rule as ward ties in
`geography.geocoder.AreaIndex`). `ambiguous` lists the children concerned.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from warehouse.schema.db import connect_raw


class LookupFileError(ValueError):
    """A lookup file that cannot be loaded; the message names the file, row and field."""


# ONS-style code columns per level ("<yy>" = a two-digit year).
LEVEL_COLUMNS: dict[str, tuple[str, ...]] = {
    "lsoa": ("LSOA<yy>CD", "lsoa<yy>_code"),
    "ward": ("WD<yy>CD", "ward<yy>_code"),
    "lad": ("LAD<yy>CD", "ltla<yy>_code", "lad<yy>_code"),
    "county": ("CTYUA<yy>CD", "ctyua<yy>_code"),
    "region": ("RGN<yy>CD", "rgn<yy>_code"),
    "csp": ("CSP<yy>CD", "csp<yy>_code"),
    "pfa": ("PFA<yy>CD", "pfa<yy>_code"),
}


@dataclass(frozen=True)
class LookupFormat:
    """A known lookup file: the levels its header must hold and the child -> parent edges it provides."""

    name: str
    levels: tuple[str, ...]
    edges: tuple[tuple[str, str], ...]


LOOKUP_FORMATS: tuple[LookupFormat, ...] = (
    LookupFormat(
        "ward-lad-county",
        ("ward", "lad", "county", "region"),
        (("ward", "lad"), ("lad", "county"), ("county", "region")),
    ),
    LookupFormat("lsoa-ward-lad", ("lsoa", "ward", "lad"), (("lsoa", "ward"), ("lsoa", "lad"))),
    LookupFormat("lad-csp-pfa", ("lad", "csp", "pfa"), (("lad", "csp"), ("csp", "pfa"), ("lad", "pfa"))),
)


@dataclass(frozen=True)
class LookupLoad:
    """What loading one lookup file did."""

    format: str
    rows: int
    edges: dict[tuple[str, str], int]


def _level_column(header: Sequence[str], level: str) -> str | None:
    """The header column holding `level` codes (latest year first), or None."""
    found: list[tuple[str, str]] = []
    for candidate in LEVEL_COLUMNS[level]:
        pattern = re.compile(re.escape(candidate).replace("<yy>", r"(\d{2})"), re.IGNORECASE)
        found.extend((m.group(1), name) for name in header if (m := pattern.fullmatch(name)))
    return max(found)[1] if found else None


def recognise(path: Path, header: Sequence[str]) -> tuple[LookupFormat, dict[str, str]]:
    """Which lookup the header is, and its column per level; the first format whose levels are all present."""
    columns = {level: col for level in LEVEL_COLUMNS if (col := _level_column(header, level))}
    for fmt in LOOKUP_FORMATS:
        if all(level in columns for level in fmt.levels):
            return fmt, {level: columns[level] for level in fmt.levels}
    known = "; ".join(f"{f.name} ({', '.join(f.levels)})" for f in LOOKUP_FORMATS)
    raise LookupFileError(
        f"{path}: not a known lookup: its header has code columns for {', '.join(columns) or 'no level'}; "
        f"known lookups need: {known}"
    )


def read_lookup(path: Path) -> tuple[LookupFormat, set[tuple[str, str, str, str]]]:
    """The file's format and its distinct (child_level, child_code, parent_level, parent_code) edges."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            fmt, columns = recognise(path, reader.fieldnames or [])
            edges: set[tuple[str, str, str, str]] = set()
            for row_number, row in enumerate(reader, start=2):
                for child, parent in fmt.edges:
                    codes = []
                    for level in (child, parent):
                        value = (row.get(columns[level]) or "").strip()
                        if not value:
                            raise LookupFileError(f"{path}, row {row_number}, field {columns[level]!r}: empty")
                        codes.append(value)
                    edges.add((child, codes[0], parent, codes[1]))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise LookupFileError(f"{path}: cannot read ({exc})") from exc
    return fmt, edges


def load_lookup(path: Path, vintage: str, url: str) -> LookupLoad:
    """Replace the vintage's edges of the file's kinds with the file's rows (COPY); returns what was loaded."""
    fmt, edges = read_lookup(path)
    with connect_raw(url) as conn, conn.cursor() as cur:
        for child, parent in fmt.edges:
            cur.execute(
                "DELETE FROM area_lookup WHERE vintage = %s AND child_level = %s AND parent_level = %s",
                (vintage, child, parent),
            )
        with cur.copy(
            "COPY area_lookup (vintage, child_level, child_code, parent_level, parent_code) FROM STDIN"
        ) as copy:
            for edge in sorted(edges):
                copy.write_row((vintage, *edge))
    counts = {pair: sum(1 for e in edges if (e[0], e[2]) == pair) for pair in fmt.edges}
    return LookupLoad(fmt.name, len(edges), counts)


def parents(vintage: str, child_level: str, parent_level: str, url: str) -> dict[str, list[str]]:
    """Every parent code of each child, sorted (a child can have several: legacy CSPs)."""
    with connect_raw(url) as conn:
        rows = conn.execute(
            "SELECT child_code, parent_code FROM area_lookup "
            "WHERE vintage = %s AND child_level = %s AND parent_level = %s ORDER BY child_code, parent_code",
            (vintage, child_level, parent_level),
        ).fetchall()
    out: dict[str, list[str]] = {}
    for child, parent in rows:
        out.setdefault(str(child), []).append(str(parent))
    return out


def ambiguous(vintage: str, child_level: str, parent_level: str, url: str) -> dict[str, list[str]]:
    """The children with more than one parent of `parent_level`, and those parents."""
    return {c: p for c, p in parents(vintage, child_level, parent_level, url).items() if len(p) > 1}


def rollup(vintage: str, levels: Sequence[str], url: str) -> dict[str, str]:
    """Each code of levels[0] mapped to its levels[-1] code, following the direct edges levels[i] -> levels[i+1].

    Where a child has several parents the smallest parent code is used. Children whose chain breaks are left out.
    """
    if len(levels) < 2:
        raise ValueError("a roll-up needs at least two levels")
    mapping: dict[str, str] | None = None
    for child_level, parent_level in itertools.pairwise(levels):
        step = {c: p[0] for c, p in parents(vintage, child_level, parent_level, url).items()}
        mapping = step if mapping is None else {c: step[p] for c, p in mapping.items() if p in step}
    return mapping or {}
