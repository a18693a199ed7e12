"""Reads a partner's XML export record by record (e.g. the ISTV A&E data set), like csv_source does for CSV."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError, iterparse
from xml.parsers import expat

from producers.csv_source import RowError, SourceFileError, SourceRow


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def read_records(path: Path, record: str, columns: Sequence[str]) -> Iterator[SourceRow | RowError]:
    """Yield each `<record>` element of `path` as a SourceRow (child element name -> text), numbered from 1.

    A record without one of `columns` yields a RowError; a document that stops being well-formed raises
    SourceFileError naming the line. Entity declarations are refused (no entity expansion attacks).
    """
    name = str(path)
    if not path.is_file():
        raise SourceFileError(f"{name}: no such file")
    if _declares_a_dtd(path):
        raise SourceFileError(f"{name}: DTDs and entity declarations are not accepted")
    number = 0
    try:
        for _, element in iterparse(path, events=("end",)):
            if _local(element.tag) != record:
                continue
            number += 1
            yield _record(name, number, element, columns)
            element.clear()
    except ParseError as exc:
        raise SourceFileError(f"{name}, line {exc.position[0]}: not well-formed XML") from None
    if number == 0:
        raise SourceFileError(f"{name}: no <{record}> records")


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
    missing = [column for column in columns if column not in fields]
    if missing:
        return RowError(name, number, missing[0], "element is missing")
    return SourceRow(number, fields)
