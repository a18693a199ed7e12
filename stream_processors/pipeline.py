"""The loader's two stages on two threads: batch N+1 is processed while batch N is written.

Each stage is one thread taking its batches in submission order: the processing thread runs `Loader.process`
(decode, geocode, decide, shape: Python), the warehouse thread `Loader.settle` (the write, and any retry, which
processes the batch again on the warehouse thread with a decision memo of its own). psycopg lets the GIL go while it
waits for PostgreSQL, so the next batch's Python runs while the database works on this one. Batches therefore reach
the database in submission order, a batch's result is whatever its settling gave (so its offsets wait for its own
commit, stream_processors.fetcher), and a batch processed ahead is written only after every earlier one has been
written: once one fails, every later batch fails too (`EarlierBatchFailed`) without touching the database, so the
process, which exits on the first failure, never has a later batch committed ahead of an earlier one.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Sequence

from stream_processors.batch import BatchResult, RawMessage
from stream_processors.loader import Loader


class EarlierBatchFailed(RuntimeError):
    """A batch not written because an earlier one failed (the process is on its way out)."""


class BatchPipeline:
    """Batches processed on one thread and settled in the warehouse on another, in the order they were submitted."""

    def __init__(self, loader: Loader) -> None:
        self._loader = loader
        self._processing = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="processing")
        self._warehouse = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="warehouse")
        self._failed = False  # read and set on the warehouse thread only

    def submit(self, messages: Sequence[RawMessage]) -> concurrent.futures.Future[BatchResult]:
        """Start `messages`: processed once every earlier batch is, then written once every earlier one is. The
        future has what the batch committed, or the error that stopped it."""
        processed = self._processing.submit(self._loader.process, messages)
        return self._warehouse.submit(self._settle, messages, processed)

    def _settle(self, messages: Sequence[RawMessage], processed: concurrent.futures.Future[BatchResult]) -> BatchResult:
        if self._failed:
            raise EarlierBatchFailed("an earlier batch could not be loaded; this one is not written")
        try:
            return self._loader.settle(messages, processed.result)
        except BaseException:
            self._failed = True
            raise

    def close(self) -> None:
        """Let the two threads go once the batches submitted are done (nothing may be submitted after)."""
        self._processing.shutdown()
        self._warehouse.shutdown()
