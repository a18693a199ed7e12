"""`hub publish`: validate a partner file against its dataset schema and publish one event per valid row.

Each row becomes an event (or, where the feed marks the record withdrawn, a retraction). Direct identifiers are
read only to make keyed pseudonyms; free text is scrubbed; time is coarsened to what the feed's protocols grant.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from producers.anonymisation.pseudonyms import PseudonymError
from producers.csv_source import IgnoredColumns, RowError, SourceBreak, SourceItem, read_rows
from producers.feed import Feed, RowValueError, SourceContext
from producers.publisher import Message
from producers.settings import MAX_MESSAGE_BYTES
from producers.xml_source import read_records
from sharing_protocols.envelope import EventEnvelope, Retraction
from sharing_protocols.id_scheme import scheme_for
from sharing_protocols.precision import TemporalPrecision

Outgoing = EventEnvelope | Retraction
RECORD_ID_DOMAIN = "record-ids"  # the key file entry whose secret makes event ids


@dataclass
class PublishSummary:
    """What happened to a file: rows read, events published, retractions, in-file duplicates, rejected rows, and
    where the file broke with the rows not attempted after it. Every row read is published, retracted, a
    duplicate or rejected: read == published + retracted + duplicates + rejected."""

    file: str
    dataset: str
    read: int = 0
    published: int = 0
    retracted: int = 0
    duplicates: int = 0  # rows repeating an earlier row of the file exactly (same record, same content): sent once
    errors: list[RowError] = field(default_factory=list)
    broken: SourceBreak | None = None  # where the file stopped being readable, if it did
    ignored_columns: tuple[str, ...] = ()  # CSV columns or XML elements the feed does not know

    @property
    def rejected(self) -> int:
        return len(self.errors)

    @property
    def not_attempted(self) -> int:
        """Rows after the break (none when the file was read to its end)."""
        return self.broken.not_attempted if self.broken else 0

    def rejected_by_reason(self) -> Counter[str]:
        return Counter(error.kind for error in self.errors)

    def refused_by_broker(self, row: int | None) -> None:
        """An event counted as published that the broker (or its client) refused as too large: rejected instead."""
        self.published -= 1
        self.errors.append(
            RowError(self.file, row or 0, None, "the broker refused the event as larger than its maximum")
        )


@dataclass(frozen=True)
class SourceOptions:
    """How a partner's rows are turned into events: who publishes, how identifiers become pseudonyms, the largest
    message the broker accepts, etc."""

    partner: str
    pseudonymise: Callable[[str, str], str]
    code_lists: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    vocabulary: frozenset[str] | None = None
    temporal_precision: TemporalPrecision | None = "timestamp"  # the finest the feed's protocols grant
    record_key: bytes | None = None  # the partner's secret for event ids (linkage domain RECORD_ID_DOMAIN)
    max_message_bytes: int = MAX_MESSAGE_BYTES  # the broker's message.max.bytes: larger events are rejected
    extra_columns: bool = False  # columns (XML elements) the feed does not know: refused, or (True) left out

    @property
    def id_scheme(self) -> str:
        """How the event ids are made (`sharing_protocols.id_scheme`), named on every record sent."""
        return scheme_for(self.record_key)


def _too_large(limit: int) -> str:
    """Why an event is rejected for its size (without the size, so that such rows are summarised together)."""
    return f"the event is larger than the broker's maximum message size ({limit:,} bytes)"


def _largest(fields: Mapping[str, str]) -> str | None:
    """The field with the longest value: what most likely made an event too large."""
    return max(fields, key=lambda name: len(fields[name]), default=None)


def _validation_error(file: str, row: int, exc: ValidationError) -> RowError:
    """The first problem pydantic found, named by column; the offending value is left out on purpose."""
    first = exc.errors(include_input=False, include_url=False)[0]
    field_name = ".".join(str(part) for part in first["loc"]) or None
    message = first["msg"].removeprefix("Value error, ")
    return RowError(file, row, field_name, message)


class _FallbackKeys:
    """Keys for rows without a source id: a digest of their content, plus which repeat of that content they are."""

    def __init__(self) -> None:
        self._seen: Counter[str] = Counter()

    def __call__(self, fields: dict[str, str]) -> str:
        content = hashlib.sha256("\x1f".join(f"{k}={v}" for k, v in sorted(fields.items())).encode()).hexdigest()
        self._seen[content] += 1
        return f"content:{content}#{self._seen[content]}"


def source_rows(feed: Feed[Any], path: Path, extra_columns: bool = False) -> Iterator[SourceItem]:
    """The rows of `path`, read as XML when the file is .xml and the feed has an XML form, else as CSV; columns the
    feed does not know are refused unless `extra_columns`."""
    if path.suffix.lower() == ".xml" and "xml" in feed.formats and feed.xml_record:
        return read_records(path, feed.xml_record, feed.columns, feed.dropped, extra_columns)
    return read_rows(path, feed.columns, feed.dropped, extra_columns)


def outgoing(feed: Feed[Any], path: Path, options: SourceOptions, summary: PublishSummary) -> Iterator[Outgoing]:
    """Validate each row of `path` and yield its event or retraction; rejected rows are recorded in `summary`."""
    for _, message in numbered(feed, path, options, summary):
        yield message.item


def numbered(
    feed: Feed[Any], path: Path, options: SourceOptions, summary: PublishSummary
) -> Iterator[tuple[int, Message]]:
    """Each event or retraction of `path`, serialised as its Kafka record, with the source row (record number) it
    came from; rejected rows, a break in the file and ignored columns are recorded in `summary`."""
    fallback = _FallbackKeys()
    scheme = options.id_scheme
    sent: dict[str, bytes] = {}  # source key -> digest of the event last sent for it
    spec = feed.spec
    for item in source_rows(feed, path, options.extra_columns):
        if isinstance(item, IgnoredColumns):
            summary.ignored_columns = item.columns
            continue
        if isinstance(item, SourceBreak):
            summary.broken = item
            return
        summary.read += 1
        if isinstance(item, RowError):
            summary.errors.append(item)
            continue
        try:
            row = feed.row_model.model_validate(item.fields)
        except ValidationError as exc:
            summary.errors.append(_validation_error(summary.file, item.row, exc))
            continue
        key = feed.source_key(row) or fallback(item.fields)
        context = SourceContext(
            spec.name,
            options.partner,
            key,
            options.pseudonymise,
            options.code_lists,
            options.vocabulary,
            options.record_key,
        )
        if feed.retracted is not None and feed.retracted(row):
            sent.pop(key, None)
            summary.retracted += 1
            retraction = Retraction(
                event_id=context.event_id,
                dataset=spec.name,
                partner=options.partner,
                schema_version=spec.schema_version,
            )
            yield item.row, Message.of(retraction, scheme)
            continue
        try:
            envelope = spec.coarsened(feed.to_envelope(row, context), options.temporal_precision)
        except RowValueError as exc:
            summary.errors.append(RowError(summary.file, item.row, exc.column, exc.reason))
            continue
        except PseudonymError as exc:
            summary.errors.append(RowError(summary.file, item.row, None, f"cannot pseudonymise: {exc}"))
            continue
        message = Message.of(envelope, scheme)  # the Kafka record the Publisher sends
        if not message.fits(options.max_message_bytes):
            reason = _too_large(options.max_message_bytes)
            summary.errors.append(RowError(summary.file, item.row, _largest(item.fields), reason))
            continue
        digest = hashlib.sha256(message.value or b"").digest()
        if sent.get(key) == digest:
            summary.duplicates += 1
            continue
        sent[key] = digest
        summary.published += 1
        yield item.row, message


def envelopes(feed: Feed[Any], path: Path, options: SourceOptions, summary: PublishSummary) -> Iterator[EventEnvelope]:
    """Only the events of `path` (retractions are counted in `summary` but not yielded)."""
    for item in outgoing(feed, path, options, summary):
        if isinstance(item, EventEnvelope):
            yield item


def publish_file(
    feed: Feed[Any],
    path: Path,
    options: SourceOptions,
    send: Callable[[Message, int], None],
) -> PublishSummary:
    """Publish every valid row of `path` through `send` (the event or retraction with its Kafka record, and its
    source row); the summary says what was read, sent, rejected and not attempted."""
    summary = PublishSummary(file=str(path), dataset=feed.name)
    for row, message in numbered(feed, path, options, summary):
        send(message, row)
    return summary


def unlinked(field_name: str, identifier: str) -> str:
    """A pseudonymiser for feeds without linkage fields: refuses to be called."""
    raise PseudonymError(f"no linkage domain is configured for {field_name!r}")
