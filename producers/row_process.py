"""`publish_file` with its row work in a child process: the parent only sends.

For files of ROW_PROCESS_MIN_BYTES or more, a child (`python -P -m producers.row_process FD`) reads, validates,
scrubs, keys and serialises the rows, and writes the records to the pipe FD in batches of BATCH_RECORDS; the
parent hands them to `send` in the same order. The parent's interpreter is then left to kafka-python (its send
and its sender thread), which otherwise share one GIL with the row work.

The job (dataset, file, options with the partner's keys) reaches the child on its stdin, never in its argv or
environment (it gets the parent's environment without any HUB_* variable). The child runs the parent's code:
`-P` keeps the working directory off its module path, PYTHONPATH names the directory the parent's `producers`
came from. The pipe carries pickles between two processes of the same code.

A child killed part-way: RowProcessEnded (what was handed to `send` until then). Ctrl-C or a failing `send` in
the parent: the child is killed and reaped. A parent killed: the child's next write fails and it exits.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, NamedTuple

import producers
from producers.csv_source import SourceFileError
from producers.feed import Feed
from producers.feed_registry import FEEDS, get_feed
from producers.publish import PublishSummary, SourceOptions, numbered, publish_file
from producers.publisher import Outbound

ROW_PROCESS_MIN_BYTES = 4 * 1024 * 1024  # files this large or larger: row work in a child process
BATCH_RECORDS = 2000  # records per write to the pipe
PIPE_BYTES = 1 << 20  # the pipe's capacity: a batch is read in one call once written, few GIL releases
EXIT_PARENT_GONE = 3  # the child's exit status when its parent stopped reading

# Frames on the pipe: an 8-byte length, then a pickle of (kind, payload); in this order: ROWS*, then one of
# DONE, REFUSED, FAILED.
ROWS = "rows"  # list of (source row, key, value, headers)
DONE = "done"  # the PublishSummary
REFUSED = "refused"  # SourceFileError's message: the file cannot be used
FAILED = "failed"  # the name of an unexpected exception's type (its text may quote the file)


class Record(NamedTuple):
    """A record as the child serialised it: what `Publisher.send` needs of a Message."""

    key: bytes
    value: bytes | None
    headers: list[tuple[str, bytes]]


@dataclass(frozen=True)
class Job:
    """What the child is to do: publish `path` as `dataset` with `options` (keys included: stdin only)."""

    dataset: str
    path: Path
    options: SourceOptions


class RowProcessEnded(Exception):
    """The child ended before the file's end (killed, or failed): `sent` records handed to `send`, the last
    from source row `last_row` (None: none)."""

    def __init__(self, how: str, sent: int, last_row: int | None) -> None:
        super().__init__(f"the row process {how} after {sent} records")
        self.how = how
        self.sent = sent
        self.last_row = last_row


def _child_environment() -> dict[str, str]:
    """The parent's environment without HUB_* settings, and the parent's `producers` first on the module path."""
    root = str(Path(producers.__file__).resolve().parent.parent)
    env = {name: value for name, value in os.environ.items() if not name.startswith("HUB_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (root, env.get("PYTHONPATH"))))
    return env


def _ended(returncode: int) -> str:
    if returncode < 0:
        return f"was killed ({signal.Signals(-returncode).name})"
    return f"ended with exit status {returncode}"


class RowProcess:
    """A child process making the records of one file; iterate for (source row, Record), in file order. After
    the last record, `summary` is the one `publish_file` would return. Use as a context manager: leaving it
    kills and reaps the child if it still runs."""

    def __init__(self, feed: Feed[Any], path: Path, options: SourceOptions) -> None:
        read_end, write_end = os.pipe()  # the read end is not inherited: a killed parent breaks the pipe
        with contextlib.suppress(OSError):  # above /proc/sys/fs/pipe-max-size: the default size will do
            fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-P", "-m", "producers.row_process", str(write_end)],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(write_end,),
                env=_child_environment(),
            )
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
        self._frames = os.fdopen(read_end, "rb", buffering=0)
        self.summary: PublishSummary | None = None
        self.sent = 0
        self.last_row: int | None = None
        stdin = self._process.stdin
        assert stdin is not None
        try:
            stdin.write(pickle.dumps(Job(feed.name, path, options), protocol=pickle.HIGHEST_PROTOCOL))
            stdin.close()
        except BrokenPipeError:  # the child is already gone: reading the pipe says how
            pass

    @property
    def pid(self) -> int:
        return self._process.pid

    def _read(self, size: int) -> bytearray | None:
        """The next `size` bytes of the pipe; None if it ends first."""
        data = bytearray(size)
        view, got = memoryview(data), 0
        while got < size:
            n = self._frames.readinto(view[got:])
            if not n:
                return None
            got += n
        return data

    def _frame(self) -> tuple[str, Any]:
        """The next frame; RowProcessEnded if the child ended without finishing one."""
        length = self._read(8)
        frame = self._read(int.from_bytes(length, "little")) if length is not None else None
        if frame is None:
            raise RowProcessEnded(_ended(self._process.wait()), self.sent, self.last_row)
        kind, payload = pickle.loads(frame)
        return kind, payload

    def __iter__(self) -> Iterator[tuple[int, Record]]:
        while True:
            kind, payload = self._frame()
            if kind == ROWS:
                for row, key, value, headers in payload:
                    yield row, Record(key, value, headers)
                    self.sent += 1
                    self.last_row = row
            elif kind == DONE:
                self.summary = payload
                self._process.wait()
                return
            elif kind == REFUSED:
                raise SourceFileError(payload)
            else:
                raise RowProcessEnded(f"failed ({payload})", self.sent, self.last_row)

    def close(self) -> None:
        """Kill the child if it still runs, and reap it."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        if self._process.stdin is not None and not self._process.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self._process.stdin.close()
        self._frames.close()

    def __enter__(self) -> RowProcess:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def publish_in_child(
    feed: Feed[Any], path: Path, options: SourceOptions, send: Callable[[Outbound, int], None]
) -> PublishSummary:
    """`publish_file`'s records and summary, the rows worked on in a child process (see the module's note)."""
    with RowProcess(feed, path, options) as rows:
        for row, record in rows:
            send(record, row)
        assert rows.summary is not None
        return rows.summary


def publish_rows(
    feed: Feed[Any],
    path: Path,
    options: SourceOptions,
    send: Callable[[Outbound, int], None],
    min_bytes: int = ROW_PROCESS_MIN_BYTES,
) -> PublishSummary:
    """`publish_file`, in a child process when `path` has `min_bytes` or more and `feed` is a registered one."""
    try:
        size = path.stat().st_size
    except OSError:
        size = 0  # publish_file says what is wrong with it
    if size < min_bytes or FEEDS.get(feed.name) is not feed:
        return publish_file(feed, path, options, send)
    return publish_in_child(feed, path, options, send)


def _write(out: BinaryIO, kind: str, payload: object) -> None:
    frame = pickle.dumps((kind, payload), protocol=pickle.HIGHEST_PROTOCOL)
    out.write(len(frame).to_bytes(8, "little") + frame)
    out.flush()


def _run(job: Job, out: BinaryIO) -> None:
    """Write the records of `job`'s file in batches, then how it ended."""
    feed = get_feed(job.dataset)
    summary = PublishSummary(file=str(job.path), dataset=feed.name)
    batch: list[tuple[int, bytes, bytes | None, list[tuple[str, bytes]]]] = []
    try:
        for row, message in numbered(feed, job.path, job.options, summary):
            batch.append((row, message.key, message.value, message.headers))
            if len(batch) >= BATCH_RECORDS:
                _write(out, ROWS, batch)
                batch = []
    except BrokenPipeError:  # the parent is gone: nothing to tell it
        raise
    except SourceFileError as exc:
        end: tuple[str, object] = (REFUSED, str(exc))
    except Exception as exc:  # the parent reports it; the text is left out (it may quote a cell)
        end = (FAILED, type(exc).__name__)
    else:
        end = (DONE, summary)
    if batch:
        _write(out, ROWS, batch)
    _write(out, *end)


def main(args: list[str]) -> int:
    """The child: `python -P -m producers.row_process FD`, the job pickled on stdin, the frames written to FD."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it kills this process
    if len(args) != 1 or not args[0].isdigit():
        print("usage: python -P -m producers.row_process FD (the job on stdin)", file=sys.stderr)
        return 2
    out = os.fdopen(int(args[0]), "wb")
    try:
        job = pickle.load(sys.stdin.buffer)
        _run(job, out)
    except BrokenPipeError:
        os._exit(EXIT_PARENT_GONE)  # the parent is gone: nothing to flush to
    except EOFError:
        return 2  # no job: the parent died before sending it
    out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
