"""The row work in a child process (producers.row_process): the same records, in the same order, and the same
summary as the one-process path; a killed child, a failing send and a killed parent (real subprocesses)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from kafka.errors import KafkaTimeoutError

from producers.csv_source import SourceFileError
from producers.feed_registry import get_feed
from producers.generators.police_records import GENERATOR
from producers.publish import PublishSummary, SourceOptions, numbered
from producers.publisher import Message, Outbound
from producers.row_process import BATCH_RECORDS, Record, RowProcess, RowProcessEnded, publish_in_child, publish_rows
from sharing_protocols.id_scheme import HEADER, scheme_for
from tests.support.feeds import TEST_KEYS, generated, options, write

FEED = get_feed("police-records")
Sent = tuple[int, bytes, bytes | None, list[tuple[str, bytes]]]


@pytest.fixture(scope="module")
def records_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated police records (cancelled ones withdrawn), with exact repeats of earlier rows, a rejected row,
    and a record recorded then cancelled further on: more than two batches of records."""
    rows = generated(GENERATOR, rows=2 * BATCH_RECORDS + 500, seed=11)
    rows += [dict(row) for row in rows[100:140]]  # exact duplicates
    rows.append({**rows[5], "Record Type": "Arrest"})  # rejected, naming the column
    rows.append({**rows[7], "Crime Status": "Cancelled"})  # a retraction of an event sent earlier
    return write(GENERATOR, tmp_path_factory.mktemp("rows") / "records.csv", rows)


def _one_process(path: Path, opts: SourceOptions) -> tuple[list[Sent], PublishSummary]:
    summary = PublishSummary(file=str(path), dataset=FEED.name)
    sent = [(row, m.key, m.value, m.headers) for row, m in numbered(FEED, path, opts, summary)]
    return sent, summary


def _collect(into: list[Sent]) -> Any:
    def send(record: Outbound, row: int) -> None:
        into.append((row, record.key, record.value, record.headers))

    return send


def test_the_child_sends_the_one_process_records_byte_for_byte_with_the_same_summary(records_file: Path) -> None:
    opts = options(FEED)
    expected, expected_summary = _one_process(records_file, opts)
    assert expected_summary.retracted >= 2 and expected_summary.duplicates >= 40
    assert [(e.row, e.field) for e in expected_summary.errors] == [(2 * BATCH_RECORDS + 542, "Record Type")]
    assert len(expected) > 2 * BATCH_RECORDS
    assert all((HEADER, scheme_for(TEST_KEYS["record-ids"]).encode()) in headers for *_, headers in expected)
    sent: list[Sent] = []
    summary = publish_in_child(FEED, records_file, opts, _collect(sent))
    assert sent == expected
    assert summary == expected_summary


def test_publish_rows_uses_the_child_from_its_size_on(records_file: Path) -> None:
    def kinds(min_bytes: int) -> set[type]:
        seen: set[type] = set()
        publish_rows(FEED, records_file, options(FEED), lambda record, _row: seen.add(type(record)), min_bytes)
        return seen

    size = records_file.stat().st_size
    assert kinds(size + 1) == {Message}
    assert kinds(size) == {Record}


def test_a_file_that_cannot_be_used_is_refused_with_the_one_process_message(tmp_path: Path) -> None:
    path = tmp_path / "records.csv"
    path.write_text("Record Type,Crime Reference\nCrime,47240012345\n", encoding="utf-8")
    with pytest.raises(SourceFileError) as one:
        _one_process(path, options(FEED))
    with pytest.raises(SourceFileError) as child:
        publish_in_child(FEED, path, options(FEED), _collect([]))
    assert "missing column" in str(child.value)
    assert str(child.value) == str(one.value)


def _state(pid: int) -> str | None:
    """The process's state letter (Z: exited, not yet reaped), None when there is no such process."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return None


def _row_processes(parent: int) -> list[int]:
    """The pids of `parent`'s children running producers.row_process."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if ppid == parent and b"producers.row_process" in cmdline:
            found.append(int(entry.name))
    return found


def test_a_killed_child_ends_the_records_naming_how_many_were_sent_and_the_last_row(records_file: Path) -> None:
    expected, _ = _one_process(records_file, options(FEED))
    sent: list[Sent] = []
    with RowProcess(FEED, records_file, options(FEED)) as rows, pytest.raises(RowProcessEnded) as ended:
        for row, record in rows:
            if not sent:
                os.kill(rows.pid, signal.SIGKILL)
            sent.append((row, record.key, record.value, record.headers))
    assert ended.value.how == "was killed (SIGKILL)"
    assert 0 < ended.value.sent == len(sent) < len(expected)
    assert sent == expected[: len(sent)]
    assert ended.value.last_row == sent[-1][0]


@pytest.mark.parametrize("failure", [KeyboardInterrupt, KafkaTimeoutError])
def test_ctrl_c_or_a_failing_send_kills_and_reaps_the_child(records_file: Path, failure: type[BaseException]) -> None:
    children: list[int] = []

    def send(_record: Outbound, _row: int) -> None:
        children.extend(_row_processes(os.getpid()))
        raise failure()

    with pytest.raises(failure):
        publish_in_child(FEED, records_file, options(FEED), send)
    [child] = children
    assert _state(child) is None  # killed and reaped: no zombie left
    assert _row_processes(os.getpid()) == []


PARENT = """
import sys, time
from pathlib import Path
from producers.feed_registry import get_feed
from producers.row_process import RowProcess
from tests.support.feeds import options
feed = get_feed("police-records")
rows = RowProcess(feed, Path(sys.argv[1]), options(feed))
print(rows.pid, flush=True)
time.sleep(600)  # reads nothing: the child fills the pipe and waits
"""


def test_a_killed_parent_leaves_a_child_that_exits_at_its_next_write(records_file: Path) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(records_file)], stdout=subprocess.PIPE, text=True, cwd=Path.cwd()
    )
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        time.sleep(1.0)
        assert _state(child) in {"S", "R"}  # blocked writing to the full pipe (or still working)
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 30
    while _state(child) not in {None, "Z"} and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _state(child) in {None, "Z"}


def test_no_key_path_or_hub_setting_reaches_the_childs_argv_or_environment(
    records_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "f" * 64
    monkeypatch.setenv("HUB_LINKAGE_KEY_RECORD_IDS", secret)
    with RowProcess(FEED, records_file, options(FEED)) as rows:
        deadline = time.monotonic() + 10
        while not (cmdline := Path(f"/proc/{rows.pid}/cmdline").read_bytes()) and time.monotonic() < deadline:
            time.sleep(0.05)  # the new process's argv shows once it has started
        argv = cmdline.split(b"\0")
        environ = Path(f"/proc/{rows.pid}/environ").read_bytes().split(b"\0")
    assert argv[1:4] == [b"-P", b"-m", b"producers.row_process"] and argv[4].isdigit()
    assert len([a for a in argv if a]) == 5
    assert not [v for v in environ if v.startswith(b"HUB_") or secret.encode() in v]
    for key in TEST_KEYS.values():
        assert not [v for v in argv + environ if key in v or key.hex().encode() in v]
