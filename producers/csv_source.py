"""Reads a partner's CSV export row by row, reporting each bad row by file, row and field.

The file is UTF-8, with or without a byte order mark; a UTF-16 or UTF-32 file is refused by name (export it as
UTF-8). A cell longer than MAX_CELL_CHARS rejects its row; a file that stops being readable part-way ends with a
SourceBreak saying where and how many rows were not attempted.
"""

from __future__ import annotations

import csv
import re
import sys
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# The longest cell (CSV) or element text (XML) read, in characters: more than any broker message could carry
# (HUB_PRODUCER_MAX_MESSAGE_BYTES, 1 MiB by default), so a row with a longer value is rejected, naming it.
MAX_CELL_CHARS = 1024 * 1024
# Bytes read from the file at a time: each read releases the GIL, and taking it back can wait for the Kafka
# producer's sender thread for up to a switch interval, so the publish path reads in large pieces.
READ_BUFFER = 1024 * 1024


@dataclass(frozen=True)
class RowError:
    """Why one source row was rejected. Never carries the row's values (they may be personal)."""

    file: str
    row: int
    field: str | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}, row {self.row}"
        return f"{where}, field {self.field!r}: {self.reason}" if self.field else f"{where}: {self.reason}"

    @property
    def kind(self) -> str:
        """A short grouping key for summaries: the field and the reason."""
        return f"{self.field}: {self.reason}" if self.field else self.reason


@dataclass(frozen=True)
class SourceBreak:
    """The file stopped being readable at `line`, in row (record) `row`; `not_attempted` rows from there on were
    not read (the row that broke included, when it had begun)."""

    file: str
    row: int
    line: int
    reason: str
    not_attempted: int

    def __str__(self) -> str:
        return (
            f"{self.file}, line {self.line}, row {self.row}: {self.reason}; the file was read no further "
            f"({self.not_attempted} row(s) from there on not attempted)"
        )


@dataclass(frozen=True)
class IgnoredColumns:
    """Columns of the CSV header, or elements of the XML records, that the feed does not know: read past, never
    published."""

    file: str
    columns: tuple[str, ...]


class SourceFileError(ValueError):
    """The file as a whole cannot be read (missing, empty, not UTF-8, or without the expected header)."""


EXTRA_COLUMNS_OPTION = "--allow-extra-columns"


def unknown_columns(file: str, where: str, names: Sequence[str]) -> str:
    """Why columns (or elements) the feed does not know are refused, and how to leave them out instead."""
    listed = ", ".join(repr(n) for n in names)
    return (
        f"{file}, {where} {listed} are not the feed's: remove them from the export, or publish with "
        f"{EXTRA_COLUMNS_OPTION} to leave them out (they are never published)"
    )


@dataclass(frozen=True)
class SourceRow:
    """One well-formed CSV row: its row number (the header is row 1) and its fields by column name."""

    row: int
    fields: dict[str, str]


SourceItem = SourceRow | RowError | SourceBreak | IgnoredColumns

# Bytes that are not UTF-8 arrive as lone surrogates under errors="surrogateescape".
_UNDECODABLE = re.compile("[\udc80-\udcff]")
_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32LE"),
    (b"\x00\x00\xfe\xff", "UTF-32BE"),
    (b"\xff\xfe", "UTF-16LE"),
    (b"\xfe\xff", "UTF-16BE"),
)


def wide_encoding(start: bytes) -> str | None:
    """The name of the UTF-16 or UTF-32 encoding that a file starting with `start` is in, else None: by its byte
    order mark, or without one by the NUL byte beside each character of ASCII text."""
    for bom, name in _BOMS:
        if start.startswith(bom):
            return name
    if len(start) >= 4 and start[1] == 0 and start[3] == 0 and start[0] and start[2]:
        return "UTF-16LE"
    if len(start) >= 4 and start[0] == 0 and start[2] == 0 and start[1] and start[3]:
        return "UTF-16BE"
    return None


@contextmanager
def _cell_limit(limit: int) -> Iterator[None]:
    """The csv module's field limit (a process-wide setting) set to `limit` while reading."""
    before = csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(before)


class _RecordLines:
    """The file's lines as the csv reader takes them, keeping those of the record being read."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)
        self.current: list[str] = []

    def __iter__(self) -> _RecordLines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.current.append(line)
        return line

    def skip_open_quote(self) -> None:
        """After a record failed mid-line: skip the rest of a quoted cell that runs on over further lines."""
        quotes = sum(line.count('"') for line in self.current)
        while quotes % 2:
            line = next(self._lines, None)
            if line is None:
                return
            quotes += line.count('"')

    def remaining(self) -> int:
        """The non-blank lines not read yet (consumes them)."""
        return sum(1 for line in self._lines if line.strip())


def _oversized_field(lines: list[str], header: Sequence[str]) -> str | None:
    """The column whose cell in `lines` (one record) is longer than MAX_CELL_CHARS."""
    with _cell_limit(sys.maxsize):
        values = next(csv.reader(lines), [])
    index = next((i for i, value in enumerate(values) if len(value) > MAX_CELL_CHARS), None)
    return header[index] if index is not None and index < len(header) else None


def _read_header(name: str, reader: Iterator[list[str]], columns: Sequence[str]) -> list[str]:
    try:
        header = next(reader, None)
    except csv.Error:
        raise SourceFileError(f"{name}, row 1: a column name is longer than {MAX_CELL_CHARS:,} characters") from None
    if header is None:
        raise SourceFileError(f"{name}: the file is empty")
    header = [column.strip() for column in header]
    repeated = sorted(column for column, n in Counter(header).items() if n > 1 and column)
    if repeated:
        raise SourceFileError(f"{name}, row 1: column(s) {', '.join(map(repr, repeated))} appear more than once")
    missing = [column for column in columns if column not in header]
    if missing:
        raise SourceFileError(f"{name}, row 1: missing column(s) {', '.join(map(repr, missing))}")
    return header


def read_rows(
    path: Path, columns: Sequence[str], dropped: Collection[str] = (), extra_columns: bool = False
) -> Iterator[SourceItem]:
    """Yield each data row of `path`, or a RowError for a row that is not well formed.

    A header with columns besides `columns` and `dropped` (the export's columns the feed never reads) is refused
    (SourceFileError naming them), unless `extra_columns`. The columns read past are named first (IgnoredColumns).
    Last, if the file breaks part-way, a SourceBreak. Raises SourceFileError when the file cannot be read at all.
    """
    name = str(path)
    if not path.is_file():
        raise SourceFileError(f"{name}: no such file")
    with path.open("rb") as raw:
        encoding = wide_encoding(raw.read(4))
    if encoding is not None:
        raise SourceFileError(f"{name}: the file is {encoding}; export it as UTF-8")
    with (
        path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline="", buffering=READ_BUFFER) as handle,
        _cell_limit(MAX_CELL_CHARS),
    ):
        lines = _RecordLines(handle)
        reader = csv.reader(lines)
        header = _read_header(name, reader, columns)
        unknown = tuple(column for column in header if column and column not in columns)
        unexpected = [column for column in unknown if column not in dropped]
        if unexpected and not extra_columns:
            raise SourceFileError(unknown_columns(name, "row 1: column(s)", unexpected))
        if unknown:
            yield IgnoredColumns(name, unknown)
        row_number = 1
        while True:
            lines.current = []
            try:
                values = next(reader, None)
            except csv.Error as exc:
                row_number += 1
                if "field larger than field limit" not in str(exc):
                    line = reader.line_num
                    yield SourceBreak(name, row_number, line, "not readable as CSV", 1 + lines.remaining())
                    return
                field = _oversized_field(lines.current, header)
                lines.skip_open_quote()
                yield RowError(name, row_number, field, f"is longer than {MAX_CELL_CHARS:,} characters")
                continue
            if values is None:
                return
            row_number += 1
            if not values:
                continue
            yield _row(name, row_number, header, values)


def _row(name: str, row_number: int, header: Sequence[str], values: list[str]) -> SourceRow | RowError:
    if len(values) != len(header):
        return RowError(name, row_number, None, f"expected {len(header)} columns, found {len(values)}")
    if _UNDECODABLE.search("".join(values)):
        bad = next(col for col, val in zip(header, values, strict=True) if _UNDECODABLE.search(val))
        return RowError(name, row_number, bad, "is not valid UTF-8")
    return SourceRow(row_number, dict(zip(header, values, strict=True)))
