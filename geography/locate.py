"""Geocode a CSV file (`hub geo locate IN.csv OUT.csv`): every input row out again, with its areas added.

The input's location columns are detected from its header (case-insensitive): `easting`/`northing`,
`lat`/`lon` (or `latitude`/`longitude`, `lng`, `long`) and `postcode`. Each row uses the first form it fills
in that order. No row is dropped: a row whose numbers cannot be read (or are out of range, or half a pair)
is written with unmatched=invalid_input and reported by file, row and column, never quoting the value.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from geography.geocoder import Geocoder, GeocodeResult, Location
from sharing_protocols.envelope import BngPoint, PostcodeLocation, Wgs84Point

AREA_LEVELS = ("ward", "lsoa", "lad", "csp", "county", "pfa")
ADDED_COLUMNS = ("easting", "northing", *AREA_LEVELS, "vintage", "method", "quality", "unmatched")
INVALID_INPUT = "invalid_input"
COLLISION_PREFIX = "hub_"  # added columns whose names the input already uses get this prefix
CHUNK_ROWS = 50_000

_COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "easting": ("easting", "eastings"),
    "northing": ("northing", "northings"),
    "lat": ("lat", "latitude"),
    "lon": ("lon", "lng", "long", "longitude"),
    "postcode": ("postcode", "post_code", "postal_code"),
}
_PAIRS: tuple[tuple[str, str], ...] = (("easting", "northing"), ("lat", "lon"))


class LocateFileError(ValueError):
    """An input file that cannot be geocoded at all; the message names the file."""


@dataclass
class LocateSummary:
    """Rows read and written, matched, unmatched by reason, and the invalid rows (file, row, column)."""

    rows: int = 0
    matched: int = 0
    unmatched: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # location field -> input column used
    output_columns: list[str] = field(default_factory=list)


def detect_columns(path: Path, header: Sequence[str]) -> dict[str, str]:
    """Location field (easting, northing, lat, lon, postcode) -> input column name, for those present."""
    lowered: dict[str, str] = {}
    for name in header:
        lowered.setdefault(name.strip().lower(), name)
    found: dict[str, str] = {}
    for key, names in _COLUMN_NAMES.items():
        for candidate in names:
            if candidate in lowered:
                found[key] = lowered[candidate]
                break
    for a, b in _PAIRS:
        if (a in found) != (b in found):
            have, lack = (a, b) if a in found else (b, a)
            raise LocateFileError(f"{path}: column {found[have]!r} has no matching {lack} column")
    if not found:
        raise LocateFileError(
            f"{path}: no location columns (expected postcode, lat and lon / latitude and longitude, "
            "or easting and northing)"
        )
    return found


def _number(value: str) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


def row_location(
    path: Path, row_number: int, row: dict[str, str], columns: dict[str, str]
) -> tuple[Location, str | None]:
    """The row's location (None when it gives none), or a problem naming file, row and column."""

    def cell(key: str) -> str:
        return (row.get(columns[key]) or "").strip() if key in columns else ""

    for a, b in _PAIRS:
        if a not in columns:
            continue
        first, second = cell(a), cell(b)
        if not first and not second:
            continue
        for key, value in ((a, first), (b, second)):
            if not value:
                return (
                    None,
                    f"{path}, row {row_number}, column {columns[key]!r}: missing (the other of the pair is given)",
                )
            try:
                _number(value)
            except ValueError:
                return None, f"{path}, row {row_number}, column {columns[key]!r}: not a number"
        try:
            if a == "easting":
                return BngPoint(easting=_number(first), northing=_number(second)), None
            return Wgs84Point(lat=_number(first), lon=_number(second)), None
        except ValidationError as exc:
            field_name = str(exc.errors()[0]["loc"][0])
            return None, f"{path}, row {row_number}, column {columns.get(field_name, columns[a])!r}: out of range"
    postcode = cell("postcode")
    if postcode:  # whatever its shape: the geocoder answers invalid_postcode for what is not one
        return PostcodeLocation.model_construct(postcode=postcode), None
    return None, None


def _format(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _added(result: GeocodeResult | None) -> list[str]:
    if result is None:
        return ["", "", *([""] * len(AREA_LEVELS)), "", "", "", INVALID_INPUT]
    return [
        _format(result.x),
        _format(result.y),
        *(result.areas.get(level, "") for level in AREA_LEVELS),
        result.vintage or "",
        result.method or "",
        "" if result.quality is None else str(result.quality),
        result.unmatched or "",
    ]


def output_header(header: Sequence[str]) -> list[str]:
    """The input header plus the added columns (prefixed with `hub_` where the input already has the name)."""
    taken = {h.strip().lower() for h in header}
    return [*header, *(f"{COLLISION_PREFIX}{c}" if c in taken else c for c in ADDED_COLUMNS)]


def locate_csv(
    in_path: Path, out_path: Path, geocoder: Geocoder, progress: Callable[[int], None] | None = None
) -> LocateSummary:
    """Geocode every row of `in_path` into `out_path` (input columns plus ADDED_COLUMNS), in bulk chunks.

    `progress` is called with the number of rows written so far after each chunk.
    """
    summary = LocateSummary()
    with (
        in_path.open(newline="", encoding="utf-8-sig", errors="surrogateescape") as source,
        out_path.open("w", newline="", encoding="utf-8", errors="surrogateescape") as target,
    ):
        reader = csv.reader(source)
        header = next(reader, None)
        if header is None:
            raise LocateFileError(f"{in_path}: empty file (no header row)")
        summary.columns = detect_columns(in_path, header)
        summary.output_columns = output_header(header)
        writer = csv.writer(target)
        writer.writerow(summary.output_columns)
        width = len(header)

        def flush(rows: list[list[str]], locations: list[Location], invalid: list[bool]) -> None:
            results = iter(geocoder.geocode([loc for loc, bad in zip(locations, invalid, strict=True) if not bad]))
            for values, bad in zip(rows, invalid, strict=True):
                result = None if bad else next(results)
                if result is None:
                    summary.unmatched[INVALID_INPUT] += 1
                elif result.unmatched:
                    summary.unmatched[result.unmatched] += 1
                else:
                    summary.matched += 1
                writer.writerow([*values, *_added(result)])
            summary.rows += len(rows)
            if progress is not None:
                progress(summary.rows)

        rows: list[list[str]] = []
        locations: list[Location] = []
        invalid: list[bool] = []
        for row_number, values in enumerate(reader, start=2):
            padded = (values + [""] * width)[:width]
            location, problem = row_location(
                in_path, row_number, dict(zip(header, padded, strict=True)), summary.columns
            )
            if len(values) > width:
                location, problem = (
                    None,
                    f"{in_path}, row {row_number}: {len(values)} fields where the header has {width}",
                )
            if problem is not None:
                summary.problems.append(problem)
            rows.append(padded)
            locations.append(location)
            invalid.append(problem is not None)
            if len(rows) >= CHUNK_ROWS:
                flush(rows, locations, invalid)
                rows, locations, invalid = [], [], []
        if rows or summary.rows == 0:
            flush(rows, locations, invalid)
    return summary
