"""Postcode files (OS Code-Point Open, ONS Postcode Directory) into the `postcode` table, by COPY.

Postcodes are normalised (`sharing_protocols.postcode_format`); rows are upserted on the normalised postcode, so a later
file overrides an earlier one for the postcodes they share. Rows that cannot be loaded are skipped and counted by
reason (with their row numbers), never silently: an invalid postcode, no coordinates, unreadable coordinates, or
a repeat of a postcode earlier in the same file.
"""

from __future__ import annotations

import csv
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pyproj import Transformer

from sharing_protocols import postcode_format
from warehouse.schema.db import connect_raw

SOURCES = ("codepoint", "onspd")

# Code-Point Open ships without a header; these are its ten columns, in order (OS user guide).
CODEPOINT_COLUMNS = (
    "Postcode",
    "Positional_quality_indicator",
    "Eastings",
    "Northings",
    "Country_code",
    "NHS_regional_HA_code",
    "NHS_HA_code",
    "Admin_county_code",
    "Admin_district_code",
    "Admin_ward_code",
)

INVALID_POSTCODE = "invalid postcode"
NO_COORDINATES = "no coordinates"
BAD_COORDINATES = "unreadable coordinates"
DUPLICATE = "duplicate postcode in file"

_WGS84_TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)
_NORTHERN_IRELAND = "N92000002"  # ONSPD grid references there are on the Irish Grid: use lat/long instead
_PROGRESS_EVERY = 5000


class PostcodeFileError(ValueError):
    """A postcode file that cannot be loaded at all; the message names the file and the field."""


@dataclass
class PostcodeLoad:
    """What loading one postcode file did: rows read, loaded, and skipped by reason (with row numbers)."""

    read: int = 0
    loaded: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    skipped_rows: dict[str, list[int]] = field(default_factory=dict)
    seconds: float = 0.0

    def skip(self, reason: str, row_number: int) -> None:
        """Count a skipped row, keeping the first 20 row numbers per reason."""
        self.skipped[reason] += 1
        rows = self.skipped_rows.setdefault(reason, [])
        if len(rows) < 20:
            rows.append(row_number)


@dataclass(frozen=True)
class _Columns:
    postcode: tuple[str, ...]
    easting: str
    northing: str
    quality: str
    lad: str
    ward: str
    lat: str | None = None
    lon: str | None = None
    country: str | None = None


_FORMATS = {
    "codepoint": _Columns(
        ("Postcode",), "Eastings", "Northings", "Positional_quality_indicator", "Admin_district_code", "Admin_ward_code"
    ),
    "onspd": _Columns(
        ("pcds", "pcd7", "pcd", "pcd8"), "oseast1m", "osnrth1m", "osgrdind", "oslaua", "osward", "lat", "long", "ctry"
    ),
}


def _code(value: str | None) -> str | None:
    """An area code, or None for blanks and ONS pseudo-codes ('S99999999': no such area)."""
    value = (value or "").strip()
    return None if not value or value.endswith("99999999") else value


def _rows(path: Path, source: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, row) pairs; Code-Point files without a header get the standard column names."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        first = next(reader, None)
        if first is None:
            return
        if source == "codepoint" and len(first) == len(CODEPOINT_COLUMNS) and postcode_format.normalise(first[0]):
            header, start = list(CODEPOINT_COLUMNS), 1
            yield 1, dict(zip(header, first, strict=False))
        else:
            header, start = [h.strip() for h in first], 2
        columns = _FORMATS[source]
        needed = [columns.easting, columns.northing, columns.lad, columns.ward, columns.quality]
        missing = [c for c in needed if c not in header]
        if not any(c in header for c in columns.postcode):
            missing.insert(0, " or ".join(columns.postcode))
        if missing:
            raise PostcodeFileError(f"{path}: not a {source} file: no column {', '.join(missing)}")
        for row_number, values in enumerate(reader, start=start):
            yield row_number, dict(zip(header, values, strict=False))


def _coordinates(row: dict[str, str], columns: _Columns) -> tuple[float, float] | str | None:
    """(easting, northing), None when the row has none, or BAD_COORDINATES."""
    easting, northing = (row.get(columns.easting) or "").strip(), (row.get(columns.northing) or "").strip()
    use_latlon = columns.country is not None and row.get(columns.country) == _NORTHERN_IRELAND
    try:
        if easting and northing and not use_latlon:
            return float(easting), float(northing)
        if columns.lat and columns.lon:
            lat, lon = (row.get(columns.lat) or "").strip(), (row.get(columns.lon) or "").strip()
            if lat and lon and float(lat) <= 90:  # ONSPD marks no location with lat 99.999999
                x, y = _WGS84_TO_BNG.transform(float(lon), float(lat))
                return float(x), float(y)
    except ValueError:
        return BAD_COORDINATES
    return None


def load_postcodes(path: Path, source: str, url: str, progress: Callable[[int], None] | None = None) -> PostcodeLoad:
    """Load a Code-Point Open or ONSPD CSV into `postcode` (COPY to a staging table, then one upsert).

    `progress` is called with the number of rows read so far, every few thousand rows and at the end.
    """
    if source not in SOURCES:
        raise PostcodeFileError(f"{path}: unknown source {source!r} (expected one of {', '.join(SOURCES)})")
    columns = _FORMATS[source]
    result = PostcodeLoad()
    started = time.perf_counter()
    seen: set[str] = set()
    label = f"{source}:{path.name}"
    try:
        with connect_raw(url) as conn, conn.cursor() as cur:
            cur.execute(
                "CREATE TEMP TABLE postcode_stage (postcode_norm text, postcode text, easting float8, "
                "northing float8, quality int, lad_code text, ward_code text, sector text, district text) "
                "ON COMMIT DROP"
            )
            with cur.copy(
                "COPY postcode_stage (postcode_norm, postcode, easting, northing, quality, lad_code, ward_code, "
                "sector, district) FROM STDIN"
            ) as copy:
                for row_number, row in _rows(path, source):
                    result.read += 1
                    if progress is not None and result.read % _PROGRESS_EVERY == 0:
                        progress(result.read)
                    raw = next((row[c] for c in columns.postcode if row.get(c)), "")
                    canonical = postcode_format.normalise(raw)
                    if canonical is None:
                        result.skip(INVALID_POSTCODE, row_number)
                        continue
                    point = _coordinates(row, columns)
                    if point is None:
                        result.skip(NO_COORDINATES, row_number)
                        continue
                    if isinstance(point, str):
                        result.skip(point, row_number)
                        continue
                    norm = canonical.replace(" ", "")
                    if norm in seen:
                        result.skip(DUPLICATE, row_number)
                        continue
                    seen.add(norm)
                    quality = (row.get(columns.quality) or "").strip()
                    copy.write_row(
                        (
                            norm,
                            canonical,
                            point[0],
                            point[1],
                            int(quality) if quality.isdigit() else None,
                            _code(row.get(columns.lad)),
                            _code(row.get(columns.ward)),
                            canonical[:-2],  # the sector: outward code, space, first inward digit
                            canonical[:-4],  # the district: the outward code
                        )
                    )
            cur.execute(
                "INSERT INTO postcode (postcode_norm, postcode, easting, northing, quality, lad_code, ward_code, "
                "source, sector, district, geom) "
                "SELECT postcode_norm, postcode, easting, northing, quality, lad_code, ward_code, %s, sector, "
                "district, ST_SetSRID(ST_MakePoint(easting, northing), 27700) FROM postcode_stage "
                "ON CONFLICT (postcode_norm) DO UPDATE SET postcode = EXCLUDED.postcode, easting = EXCLUDED.easting, "
                "northing = EXCLUDED.northing, quality = EXCLUDED.quality, lad_code = EXCLUDED.lad_code, "
                "ward_code = EXCLUDED.ward_code, source = EXCLUDED.source, sector = EXCLUDED.sector, "
                "district = EXCLUDED.district, geom = EXCLUDED.geom",
                (label,),
            )
            result.loaded = cur.rowcount
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise PostcodeFileError(f"{path}: cannot read ({exc})") from exc
    if progress is not None:
        progress(result.read)
    result.seconds = time.perf_counter() - started
    return result
