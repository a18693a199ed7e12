"""The loader behind the faust agent: a batch in, committed to the warehouse (retrying) before it returns.

A database outage is retried with back-off, never skipped. Any other failure is logged (by kind) and the batch
retried once; if it fails again for a row-level reason (a psycopg error of SQLSTATE class 22, 23 or P0: a value
the database refuses, or a trigger raising), the batch is loaded in halves down to the messages that fail alone,
which are dead-lettered with the error kind and SQLSTATE (never the error text, which may quote the payload) so
that a poison message does not stop its partition. The search is bounded (`isolation_attempts`); when it runs out,
when no message of the batch loads, or when the failure is not row-level, the error propagates and the worker
exits uncommitted, for its supervisor to restart it.

A batch is processed (`process`: decode, geocode, decide, shape) and then settled (`settle`: written, with the
retries above), so that the worker can process the next batch on one thread while this one is written on another
(stream_processors.pipeline). The retries run on the settling side and process the batch again there, with a
decision memo of their own: a memo is never used by two threads at once.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

import psycopg

from geography.geocoder import Geocoder
from sharing_protocols.decision import ProtocolRegister
from stream_processors.batch import BatchResult, RawMessage, memo_for, refused_message
from stream_processors.batch import process as process_batch
from stream_processors.decision_memo import WarehouseDecisions
from stream_processors.reason_kinds import count_kinds, summary
from warehouse.sink import DeadLetterRow, WarehouseSink

log = logging.getLogger(__name__)

ROW_LEVEL_SQLSTATE_CLASSES = ("22", "23", "P0")  # data exception, integrity violation, PL/pgSQL raise


def row_level(exc: BaseException) -> bool:
    """Whether `exc` is the database refusing some row (so that loading fewer messages can get past it)."""
    sqlstate = getattr(exc, "sqlstate", None) if isinstance(exc, psycopg.Error) else None
    return sqlstate is not None and sqlstate[:2] in ROW_LEVEL_SQLSTATE_CLASSES


def isolation_attempts(messages: int) -> int:
    """How many partial loads may be tried to isolate the messages of a batch that fail alone: enough to find one
    (two halves per level), a few over."""
    return 2 * math.ceil(math.log2(max(messages, 2))) + 4


def failure_reason(exc: BaseException) -> str:
    """A dead letter's reason for a message the warehouse refused: fixed words, the error kind and SQLSTATE."""
    return f"load_failed: {type(exc).__name__} sqlstate {getattr(exc, 'sqlstate', None)}"


def _combined(parts: Sequence[BatchResult]) -> BatchResult:
    return BatchResult(
        events=[e for p in parts for e in p.events],
        dead_letters=[d for p in parts for d in p.dead_letters],
        decisions=[d for p in parts for d in p.decisions],
        withdrawn=[w for p in parts for w in p.withdrawn],
        retractions=[r for p in parts for r in p.retractions],
        claims=[c for p in parts for c in p.claims],
    )


def write_batch(sink: WarehouseSink, result: BatchResult) -> list[DeadLetterRow]:
    """`result` written by `sink` in one transaction (its COPY text sent as made); the dead letters the sink made."""
    return sink.write(
        result.events,
        result.dead_letters,
        result.decisions,
        result.withdrawn,
        result.retractions,
        result.claims,
        result.text,
    )


class Loader:
    """Processes batches and writes them; database outages are retried, never skipped."""

    def __init__(
        self,
        topic_prefix: str,
        geocoder: Geocoder,
        sink: WarehouseSink,
        retry_max: float,
        register: ProtocolRegister,
    ) -> None:
        self.topic_prefix = topic_prefix
        self._geocoder = geocoder
        self._register = register
        self._sink = sink
        self._retry_max = retry_max
        # Kept across batches of one register and day: one for `process`, one for the retries `settle` runs.
        self._decisions: WarehouseDecisions | None = None
        self._retry_decisions: WarehouseDecisions | None = None

    def handle(self, messages: Sequence[RawMessage]) -> BatchResult:
        """Process `messages` and commit them; returns once the database has them (`settle` of `process`)."""
        return self.settle(messages, lambda: self.process(messages))

    def process(self, messages: Sequence[RawMessage]) -> BatchResult:
        """`messages` decoded, geocoded, decided and shaped, as of now (no I/O). Called from one thread at a time."""
        at = datetime.now(UTC)
        self._decisions = memo_for(self._register, at, self._decisions)
        return process_batch(messages, self._geocoder, self.topic_prefix, self._register, at, self._decisions)

    def settle(self, messages: Sequence[RawMessage], processed: Callable[[], BatchResult]) -> BatchResult:
        """Commit `messages`, as `processed()` gives them (which may raise, as `process` may); returns once the
        database has them. Called from one thread at a time.

        A failure of `processed()` or of the write is retried once, processing the batch again here (see the
        module's note). The result's dead letters include those the sink made (a claim on another partner's event
        id) and the messages the database refused alone.
        """
        try:
            return self._written(messages, processed())
        except Exception as exc:
            log.warning(
                "batch of %d failed (%s, sqlstate %s); retrying it once",
                len(messages),
                type(exc).__name__,
                getattr(exc, "sqlstate", None),
            )
        try:
            return self._load(messages)
        except Exception as exc:
            if not row_level(exc) or len(messages) < 2:
                raise
            return self._isolate(messages, exc)

    def _isolate(self, messages: Sequence[RawMessage], failure: Exception) -> BatchResult:
        """Load `messages` in halves, in order, down to those that fail alone (dead-lettered); raises `failure` when
        the attempts run out or no message loads."""
        budget = isolation_attempts(len(messages))
        parts: list[BatchResult] = []
        refused: list[DeadLetterRow] = []

        def split(chunk: Sequence[RawMessage], error: Exception) -> None:
            nonlocal budget
            if len(chunk) == 1:
                refused.append(refused_message(chunk[0], self.topic_prefix, failure_reason(error)))
                return
            middle = len(chunk) // 2
            for half in (chunk[:middle], chunk[middle:]):  # the earlier half settled first: versions keep their order
                if budget == 0:
                    log.error("could not isolate the failing messages of a batch of %d", len(messages))
                    raise failure
                budget -= 1
                try:
                    parts.append(self._load(half))
                except Exception as exc:
                    if not row_level(exc):
                        raise
                    split(half, exc)

        split(messages, failure)
        if not parts:
            log.error("every message of a batch of %d failed alone", len(messages))
            raise failure
        self._write(BatchResult([], refused, []))
        log.warning("batch of %d: %d message(s) refused by the warehouse, dead-lettered", len(messages), len(refused))
        return _combined([*parts, BatchResult([], refused, [])])

    def _write(self, result: BatchResult) -> list[DeadLetterRow]:
        """`result` written in one transaction, retried with back-off while the database is unavailable; the sink's
        refusals."""
        delay = 0.5
        while True:
            try:
                return write_batch(self._sink, result)
            except psycopg.OperationalError as exc:
                log.warning("warehouse unavailable (%s); retrying in %.1fs", type(exc).__name__, delay)
                time.sleep(delay)
                delay = min(delay * 2, self._retry_max)

    def _load(self, messages: Sequence[RawMessage]) -> BatchResult:
        """Process `messages` on the settling side (its own memo) and commit them in one transaction, retrying while
        the database is unavailable."""
        at = datetime.now(UTC)
        self._retry_decisions = memo_for(self._register, at, self._retry_decisions)
        result = process_batch(messages, self._geocoder, self.topic_prefix, self._register, at, self._retry_decisions)
        return self._written(messages, result)

    def _written(self, messages: Sequence[RawMessage], result: BatchResult) -> BatchResult:
        """`result` of `messages` committed in one transaction (retrying while the database is unavailable), less
        what the sink refused, which joins its dead letters."""
        refused = self._write(result)
        if refused:  # the sink's refusals: leave them out of what the batch says it loaded
            gone = {(letter.source_topic, letter.source_partition, letter.source_offset) for letter in refused}
            keys = {(letter.event_key, letter.dataset, letter.partner) for letter in refused}
            result = replace(
                result,
                events=[e for e in result.events if (e.source_topic, e.source_partition, e.source_offset) not in gone],
                decisions=[d for d in result.decisions if (str(d.event_id), d.dataset, d.partner) not in keys],
                retractions=[
                    r for r in result.retractions if (r.source_topic, r.source_partition, r.source_offset) not in gone
                ],
                dead_letters=[*result.dead_letters, *refused],
                text=None,  # made for the rows before the refusals
            )
        located = sum(1 for row in result.events if row.ward_code)
        log.info(
            "batch of %d: %d loaded (%d with a ward), %d withheld by protocol (%s), %d retracted, "
            "%d dead-lettered (%s)",
            len(messages),
            len(result.events),
            located,
            result.withheld,
            summary(Counter(d.code or "unknown" for d in result.decisions if d.outcome == "withheld")),
            len(result.retractions),
            len(result.dead_letters),
            summary(count_kinds(result.dead_letters)),
        )
        return result
