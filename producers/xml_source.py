"""Reads a partner's XML export record by record (e.g. the ISTV A&E data set), like csv_source does for CSV."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError, iterparse
from xml.parsers import expat

from producers.csv_source import (
    MAX_CELL_CHARS,
    IgnoredColumns,
    RowError,
    SourceBreak,
    SourceFileError,
    SourceItem,
    SourceRow,
    unknown_columns,
)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def read_records(
    path: Path, record: str, columns: Sequence[str], dropped: Collection[str] = (), extra_columns: bool = False
) -> Iterator[SourceItem]:
    """Yield each `<record>` element of `path` as a SourceRow (child element name -> text), numbered from 1.

    A record without one of `columns`, or with a text longer than MAX_CELL_CHARS, yields a RowError; a document
    that stops being well-formed ends with a SourceBreak naming the line and record, and counting the records
    from there on as not attempted. A record with elements neither among `columns` nor `dropped` (the export's
    elements the feed never reads) is rejected naming them, unless `extra_columns`. Elements read past are named at
    the end (IgnoredColumns). Entity declarations are
    refused (no entity expansion attacks).
    """
    name = str(path)
    if not path.is_file():
        raise SourceFileError(f"{name}: no such file")
    if _declares_a_dtd(path):
        raise SourceFileError(f"{name}: DTDs and entity declarations are not accepted")
    number = 0
    inside = False  # within a <record> whose end has not been read
    known = set(columns)
    unknown: set[str] = set()
    try:
        for event, element in iterparse(path, events=("start", "end")):
            if _local(element.tag) != record:
                continue
            inside = event == "start"
            if event == "end":
                number += 1
                extra = sorted({_local(child.tag) for child in element} - known)
                unexpected = [tag for tag in extra if tag not in dropped]
                if unexpected and not extra_columns:
                    reason = unknown_columns("", "element(s)", unexpected).lstrip(", ")
                    yield RowError(name, number, unexpected[0], reason)
                else:
                    unknown.update(extra)
                    yield _record(name, number, element, columns)
                element.clear()
    except ParseError as exc:
        line, column = exc.position
        if number == 0:
            raise SourceFileError(f"{name}, line {line}: not well-formed XML") from None
        after = _records_from(path, record, line, column)
        if unknown:
            yield IgnoredColumns(name, tuple(sorted(unknown)))
        yield SourceBreak(name, number + 1, line, "not well-formed XML", int(inside) + after)
        return
    if number == 0:
        raise SourceFileError(f"{name}: no <{record}> records")
    if unknown:
        yield IgnoredColumns(name, tuple(sorted(unknown)))


def _records_from(path: Path, record: str, line: int, column: int) -> int:
    """How many `<record>` start tags the file has from `line`, `column` (1-based line, 0-based column) on."""
    start = re.compile(rb"<(?:[\w.-]+:)?" + re.escape(record.encode()) + rb"[\s/>]")
    count = 0
    with path.open("rb") as handle:
        for number, text in enumerate(handle, start=1):
            if number >= line:
                count += len(start.findall(text[column:] if number == line else text))
    return count


class _RootReached(Exception):
    """The prolog ended without a document type declaration."""


def _declares_a_dtd(path: Path) -> bool:
    """Whether the document's prolog (everything before the root element) has a DOCTYPE, however long it is."""
    parser = expat.ParserCreate()
    found = False

    def doctype(*_: object) -> None:
        nonlocal found
        found = True
        raise _RootReached

    def root(*_: object) -> None:
        raise _RootReached

    parser.StartDoctypeDeclHandler = doctype
    parser.StartElementHandler = root
    with path.open("rb") as handle:
        try:
            while chunk := handle.read(65536):
                parser.Parse(chunk, False)
        except _RootReached:
            return found
        except expat.ExpatError:
            return False  # not well-formed: iterparse reports where
    return found


def _record(name: str, number: int, element: Element, columns: Sequence[str]) -> SourceRow | RowError:
    fields = {_local(child.tag): (child.text or "").strip() for child in element}
    oversized = next((field for field, text in fields.items() if len(text) > MAX_CELL_CHARS), None)
    if oversized is not None:
        return RowError(name, number, oversized, f"is longer than {MAX_CELL_CHARS:,} characters")
    missing = [column for column in columns if column not in fields]
    if missing:
        return RowError(name, number, missing[0], "element is missing")
    return SourceRow(number, fields)
