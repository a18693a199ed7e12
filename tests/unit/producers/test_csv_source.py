"""Row-level reading errors name the file, the row and the field, and never quote the value."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from producers.csv_source import RowError, SourceBreak, SourceFileError, SourceItem, SourceRow, read_rows

COLUMNS = ("a", "b", "c")


def _write(tmp_path: Path, body: bytes) -> Path:
    path = tmp_path / "in.csv"
    path.write_bytes(body)
    return path


def test_good_rows_are_numbered_from_two(tmp_path: Path) -> None:
    path = _write(tmp_path, b"a,b,c\n1,2,3\n4,5,6\n")
    assert list(read_rows(path, COLUMNS)) == [
        SourceRow(2, {"a": "1", "b": "2", "c": "3"}),
        SourceRow(3, {"a": "4", "b": "5", "c": "6"}),
    ]


def _bad_rows(tmp_path: Path) -> tuple[Path, list[SourceItem]]:
    path = _write(tmp_path, b"a,b,c\n1,2\n1,\xff\xfe,3\n7,8,9\n")
    return path, list(read_rows(path, COLUMNS))


def test_wrong_column_count_and_invalid_utf8_are_row_errors(tmp_path: Path) -> None:
    path, items = _bad_rows(tmp_path)
    assert items[0] == RowError(str(path), 2, None, "expected 3 columns, found 2")
    assert items[1] == RowError(str(path), 3, "b", "is not valid UTF-8")


def test_a_good_row_after_row_errors_is_still_read(tmp_path: Path) -> None:
    _, items = _bad_rows(tmp_path)
    assert items[2] == SourceRow(4, {"a": "7", "b": "8", "c": "9"})


def test_a_row_error_names_the_file_row_and_field(tmp_path: Path) -> None:
    path, items = _bad_rows(tmp_path)
    assert str(items[1]) == f"{path}, row 3, field 'b': is not valid UTF-8"


def test_missing_column_is_a_file_error(tmp_path: Path) -> None:
    path = _write(tmp_path, b"a,c\n1,3\n")
    with pytest.raises(SourceFileError, match=r"in.csv, row 1: missing column\(s\) 'b'"):
        list(read_rows(path, COLUMNS))


def test_bom_in_header_is_ignored(tmp_path: Path) -> None:
    path = _write(tmp_path, "\ufeffa,b,c\n1,2,3\n".encode())
    assert list(read_rows(path, COLUMNS)) == [SourceRow(2, {"a": "1", "b": "2", "c": "3"})]


def test_a_csv_error_other_than_the_cell_limit_ends_the_file_with_a_break(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, b"a,b,c\n1,2,3\n4,5,6\n7,8,9\n\n10,11,12\n")
    real_reader = csv.reader

    class Reader:
        """csv.reader failing on its third record, after reading its line."""

        def __init__(self, lines: Iterator[str]) -> None:
            self._reader = real_reader(lines)
            self._records = 0

        def __iter__(self) -> Reader:
            return self

        def __next__(self) -> list[str]:
            values = next(self._reader)
            self._records += 1
            if self._records == 3:
                raise csv.Error("unreadable")
            return values

        @property
        def line_num(self) -> int:
            return self._reader.line_num

    monkeypatch.setattr(csv, "reader", Reader)
    *rows, end = read_rows(path, COLUMNS)
    assert rows == [SourceRow(2, {"a": "1", "b": "2", "c": "3"})]
    assert end == SourceBreak(str(path), 3, 3, "not readable as CSV", 3)  # row 3 and the two non-blank lines after
