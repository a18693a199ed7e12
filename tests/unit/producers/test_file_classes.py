"""Broken partner files, one class each (a 10 MB cell, an event too large for the broker, UTF-16, a BOM, duplicated
or unknown header columns, a truncated XML export, 10 MB of XML text): every row is accounted for, each rejection
names its row and field, the exit code says whether anything was lost, and the output holds no traceback and no
value of the file."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from deploy.cli import publish as cli
from producers.csv_source import MAX_CELL_CHARS, SourceFileError
from producers.feed import Feed
from producers.feed_registry import get_feed
from producers.generators.istv_ae import GENERATOR as ISTV_GENERATOR
from producers.publish import Outgoing, PublishSummary, SourceOptions, publish_file
from tests.support.broken_files import PLANTED, TEN_MB, csv_bytes, street_row
from tests.support.feeds import generated, options, write

STREET = get_feed("police-uk-street")
ISTV = get_feed("istv-ae")


class Run:
    """One file published with a send that keeps what it is given, with the summary, report and exit code."""

    def __init__(self, feed: Feed[Any], path: Path, opts: SourceOptions | None = None) -> None:
        self.sent: list[tuple[int, Outgoing]] = []
        self.summary: PublishSummary = publish_file(
            feed, path, opts or options(feed), lambda message, row: self.sent.append((row, message.item))
        )
        self.exit_code = cli.exit_code(self.summary, [])
        self.report = render_report(self.summary)

    def accounts_for(self, rows_in_file: int) -> bool:
        """Whether every row of the file is read or not attempted, and every row read has one outcome."""
        s = self.summary
        outcomes = s.published + s.retracted + s.duplicates + s.rejected
        return s.read + s.not_attempted == rows_in_file and s.read == outcomes and len(self.sent) == s.published


def render_report(summary: PublishSummary) -> str:
    """What `hub publish` prints for `summary`."""
    out = io.StringIO()
    original, cli.console = cli.console, Console(file=out, width=200, soft_wrap=True)
    try:
        cli._report(summary, summary.published, [])
    finally:
        cli.console = original
    return out.getvalue()


def clean(text: str) -> bool:
    return "Traceback" not in text and "Fakename" not in text and "07700" not in text


@pytest.fixture
def big_cell_csv(tmp_path: Path) -> Path:
    """Rows 2-3 good, row 4 with a 10 MB Location (a personal value first), rows 5-8 good."""
    rows = [street_row(n) for n in range(1, 3)]
    rows.append(street_row(3, Location=PLANTED + "x" * TEN_MB))
    rows += [street_row(n) for n in range(4, 8)]
    path = tmp_path / "big-cell.csv"
    path.write_bytes(csv_bytes(rows))
    return path


def test_a_10_mb_cell_rejects_its_row_by_row_and_field_and_the_rest_is_published(big_cell_csv: Path) -> None:
    run = Run(STREET, big_cell_csv)
    assert run.accounts_for(7)
    assert (run.summary.read, run.summary.published, run.summary.rejected) == (7, 6, 1)
    [error] = run.summary.errors
    assert (error.row, error.field) == (4, "Location")
    assert f"row 4, field 'Location': is longer than {MAX_CELL_CHARS:,} characters" in run.report
    assert [row for row, _ in run.sent] == [2, 3, 5, 6, 7, 8]
    assert run.exit_code == cli.EXIT_REJECTED
    assert clean(run.report)


def test_a_10_mb_quoted_cell_over_several_lines_rejects_only_its_row(tmp_path: Path) -> None:
    rows = [street_row(1), street_row(2, Location="On or near\n" + "y" * TEN_MB + '\n"quoted", end'), street_row(3)]
    path = tmp_path / "multi-line.csv"
    path.write_bytes(csv_bytes(rows))
    run = Run(STREET, path)
    assert run.accounts_for(3)
    assert [(e.row, e.field) for e in run.summary.errors] == [(3, "Location")]
    assert [row for row, _ in run.sent] == [2, 4]


def test_an_event_larger_than_the_brokers_maximum_is_rejected_naming_row_and_field(tmp_path: Path) -> None:
    rows = [street_row(1), street_row(2, **{"Falls within": "Sussex " * 1000}), street_row(3)]
    path = tmp_path / "large-event.csv"
    path.write_bytes(csv_bytes(rows))
    limit = 4000
    run = Run(STREET, path, replace(options(STREET), max_message_bytes=limit))
    assert run.accounts_for(3)
    [error] = run.summary.errors
    assert (error.row, error.field) == (3, "Falls within")
    assert error.reason == "the event is larger than the broker's maximum message size (4,000 bytes)"
    assert [row for row, _ in run.sent] == [2, 4]
    assert run.exit_code == cli.EXIT_REJECTED


def test_a_record_the_broker_refuses_as_too_large_becomes_a_rejection_of_its_row(big_cell_csv: Path) -> None:
    run = Run(STREET, big_cell_csv)
    run.summary.refused_by_broker(7)  # as `hub publish` does for each row in Publisher.too_large
    s = run.summary
    assert (s.read, s.published, s.rejected) == (7, 5, 2)
    assert s.read == s.published + s.retracted + s.duplicates + s.rejected
    assert "row 7: the broker refused the event as larger than its maximum" in render_report(run.summary)


@pytest.mark.parametrize(("codec", "name"), [("utf-16", "UTF-16LE"), ("utf-16-be", "UTF-16BE"), ("utf-32", "UTF-32LE")])
def test_a_utf16_file_is_refused_naming_its_encoding(tmp_path: Path, codec: str, name: str) -> None:
    path = tmp_path / "wide.csv"
    path.write_bytes(csv_bytes([street_row(1)]).decode().encode(codec))
    with pytest.raises(SourceFileError) as info:
        Run(STREET, path)
    assert str(info.value) == f"{path}: the file is {name}; export it as UTF-8"


def test_a_utf8_file_with_a_bom_publishes_every_row(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + csv_bytes([street_row(n) for n in range(3)]))
    run = Run(STREET, path)
    assert run.accounts_for(3) and run.summary.published == 3
    assert run.exit_code == 0


def test_invalid_utf8_is_reported_with_row_and_field(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(csv_bytes([street_row(1), street_row(2, Location="On or near Caf\xe9 " + PLANTED)]))
    path.write_bytes(path.read_bytes().replace("\xe9".encode(), b"\xe9"))
    run = Run(STREET, path)
    assert run.accounts_for(2)
    assert [(e.row, e.field, e.reason) for e in run.summary.errors] == [(3, "Location", "is not valid UTF-8")]
    assert clean(run.report)


def test_duplicated_header_columns_are_refused_naming_them(tmp_path: Path) -> None:
    header = [*street_row(1), "Month", "Location"]
    path = tmp_path / "dup.csv"
    path.write_bytes(csv_bytes([{**street_row(1), "m": "2024-02", "l": "x"}], header))
    with pytest.raises(SourceFileError) as info:
        Run(STREET, path)
    assert str(info.value) == f"{path}, row 1: column(s) 'Location', 'Month' appear more than once"


def test_a_column_the_export_format_does_not_have_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "extra.csv"
    path.write_bytes(csv_bytes([street_row(n, Victim=PLANTED) for n in range(2)]))
    with pytest.raises(SourceFileError) as refused:
        Run(STREET, path)
    assert f"{path}, row 1: column(s) 'Victim' are not the feed's" in str(refused.value)
    assert "--allow-extra-columns" in str(refused.value) and clean(str(refused.value))


def test_allowed_unknown_columns_are_named_as_ignored_and_the_rows_published(tmp_path: Path) -> None:
    path = tmp_path / "extra.csv"
    path.write_bytes(csv_bytes([street_row(n, Victim=PLANTED) for n in range(2)]))
    run = Run(STREET, path, replace(options(STREET), extra_columns=True))
    assert run.summary.ignored_columns == ("Victim",)
    assert "columns not in the feed's schema, ignored: 'Victim'" in run.report
    assert run.accounts_for(2) and run.exit_code == 0 and clean(run.report)


def istv_xml(tmp_path: Path, records: list[dict[str, str]]) -> Path:
    return write(ISTV_GENERATOR, tmp_path / "istv.xml", records)


def test_a_truncated_xml_file_counts_what_was_sent_and_names_where_it_broke(tmp_path: Path) -> None:
    path = istv_xml(tmp_path, generated(ISTV_GENERATOR, rows=20))
    body = path.read_bytes()
    thirteenth = [i for i in range(len(body)) if body.startswith(b"<Attendance>", i)][12]
    path.write_bytes(body[: thirteenth + 40])  # cut inside record 13
    run = Run(ISTV, path)
    assert run.accounts_for(13)
    assert (run.summary.read, run.summary.published, run.summary.not_attempted) == (12, 12, 1)
    assert run.summary.broken is not None and run.summary.broken.row == 13
    assert f"{path}, line 2, row 13: not well-formed XML" in run.report
    assert "12 rows read, 12 published" in run.report and "1 not attempted" in run.report
    assert run.exit_code == cli.EXIT_BROKEN
    assert clean(run.report)


def test_xml_with_10_mb_of_text_rejects_its_record_and_the_rest_is_published(tmp_path: Path) -> None:
    records = generated(ISTV_GENERATOR, rows=6)
    records[2]["AssaultMethodDescription"] = PLANTED + "z" * TEN_MB
    run = Run(ISTV, istv_xml(tmp_path, records))
    assert run.accounts_for(6)
    assert [(e.row, e.field) for e in run.summary.errors] == [(3, "AssaultMethodDescription")]
    assert [row for row, _ in run.sent] == [1, 2, 4, 5, 6]
    assert run.exit_code == cli.EXIT_REJECTED and clean(run.report)


def test_only_a_complete_file_exits_0() -> None:
    summary = PublishSummary("f", "d", read=3, published=2, duplicates=1)
    assert cli.exit_code(summary, []) == 0
    assert cli.exit_code(summary, ["KafkaTimeoutError"]) == cli.EXIT_UNDELIVERED
