"""Reads a partner's CSV export row by row, reporting each bad row by file, row and field."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path


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


class SourceFileError(ValueError):
    """The file as a whole cannot be read (missing, empty, or without the expected header)."""


@dataclass(frozen=True)
class SourceRow:
    """One well-formed CSV row: its row number (the header is row 1) and its fields by column name."""

    row: int
    fields: dict[str, str]


# Bytes that are not UTF-8 arrive as lone surrogates under errors="surrogateescape".
_UNDECODABLE = re.compile("[\udc80-\udcff]")


def read_rows(path: Path, columns: Sequence[str]) -> Iterator[SourceRow | RowError]:
    """Yield each data row of `path`, or a RowError for a row that is not well formed."""
    name = str(path)
    if not path.is_file():
        raise SourceFileError(f"{name}: no such file")
    with path.open("r", encoding="utf-8", errors="surrogateescape", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise SourceFileError(f"{name}: the file is empty")
        header = [column.lstrip("\ufeff").strip() for column in header]
        missing = [column for column in columns if column not in header]
        if missing:
            raise SourceFileError(f"{name}, row 1: missing column(s) {', '.join(map(repr, missing))}")
        row_number = 1
        for values in reader:
            row_number += 1
            if not values:
                continue
            if len(values) != len(header):
                yield RowError(name, row_number, None, f"expected {len(header)} columns, found {len(values)}")
                continue
            if _UNDECODABLE.search("".join(values)):
                bad = next(col for col, val in zip(header, values, strict=True) if _UNDECODABLE.search(val))
                yield RowError(name, row_number, bad, "is not valid UTF-8")
                continue
            yield SourceRow(row_number, dict(zip(header, values, strict=True)))
