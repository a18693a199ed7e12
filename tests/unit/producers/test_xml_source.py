"""Reading XML exports record by record; documents with a DTD are refused wherever the DOCTYPE stands."""

from __future__ import annotations

from pathlib import Path

import pytest

from producers.csv_source import IgnoredColumns, RowError, SourceBreak, SourceFileError, SourceRow
from producers.xml_source import read_records

RECORDS = "<Export><Rec><A>1</A><B>x</B></Rec><Rec><A>2</A></Rec></Export>"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "export.xml"
    path.write_text(text, encoding="utf-8")
    return path


def test_records_are_read_in_order_and_a_missing_element_is_named(tmp_path: Path) -> None:
    read = list(read_records(_write(tmp_path, RECORDS), "Rec", ("A", "B")))
    assert read[0] == SourceRow(1, {"A": "1", "B": "x"})
    assert isinstance(read[1], RowError) and read[1].field == "B"


@pytest.mark.parametrize("padding", [0, 5_000, 200_000])
def test_a_dtd_is_refused_however_long_the_prolog(tmp_path: Path, padding: int) -> None:
    text = f'<?xml version="1.0"?><!--{"x" * padding}--><!DOCTYPE Export [<!ENTITY e "EXPANDED">]>' + RECORDS.replace(
        "<B>x</B>", "<B>&e;</B>"
    )
    with pytest.raises(SourceFileError, match="DTDs and entity declarations are not accepted"):
        list(read_records(_write(tmp_path, text), "Rec", ("A", "B")))


def test_a_document_that_is_not_well_formed_before_its_first_record_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(SourceFileError, match="line 2: not well-formed"):
        list(read_records(_write(tmp_path, "<Export>\n<Rec><A>1</Rec></Export>"), "Rec", ("A",)))


def test_a_document_that_stops_being_well_formed_ends_with_a_break_naming_line_and_record(tmp_path: Path) -> None:
    path = _write(tmp_path, "<Export>\n<Rec><A>1</A></Rec>\n<Rec><A>2</Rec>\n<Rec><A>3</A></Rec>\n</Export>")
    *rows, end = read_records(path, "Rec", ("A",))
    assert rows == [SourceRow(1, {"A": "1"})]
    assert end == SourceBreak(str(path), 2, 3, "not well-formed XML", 2)  # record 2 (begun) and record 3 after it


def test_a_record_with_an_element_the_export_format_does_not_have_is_rejected_naming_it(tmp_path: Path) -> None:
    path = _write(tmp_path, RECORDS.replace("<A>2</A>", "<A>2</A><C>y</C><B>z</B>"))
    first, second, ignored = read_records(path, "Rec", ("A",), dropped=("B",))
    assert first == SourceRow(1, {"A": "1", "B": "x"})
    assert isinstance(second, RowError) and (second.row, second.field) == (2, "C")
    assert "element(s) 'C' are not the feed's" in second.reason
    assert ignored == IgnoredColumns(str(path), ("B",))


def test_elements_the_feed_does_not_know_are_named_once_after_the_records(tmp_path: Path) -> None:
    path = _write(tmp_path, RECORDS.replace("<A>2</A>", "<A>2</A><C>y</C><B>z</B>"))
    *records, ignored = read_records(path, "Rec", ("A",), extra_columns=True)
    assert records == [SourceRow(1, {"A": "1", "B": "x"}), SourceRow(2, {"A": "2", "C": "y", "B": "z"})]
    assert ignored == IgnoredColumns(str(path), ("B", "C"))
