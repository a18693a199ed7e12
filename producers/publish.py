"""`hub publish`: validate a partner file against its dataset schema and publish one event per valid row."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ValidationError

from producers.csv_source import RowError, SourceRow, read_rows
from sharing_protocols.catalogue import DatasetSpec
from sharing_protocols.envelope import EventEnvelope


@dataclass
class PublishSummary:
    """What happened to a file: rows read, events published, and rows rejected (with each error)."""

    file: str
    dataset: str
    read: int = 0
    published: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.errors)

    def rejected_by_reason(self) -> Counter[str]:
        return Counter(error.kind for error in self.errors)


def _validation_error(file: str, row: int, exc: ValidationError) -> RowError:
    """The first problem pydantic found, named by column; the offending value is left out on purpose."""
    first = exc.errors(include_input=False, include_url=False)[0]
    field_name = ".".join(str(part) for part in first["loc"]) or None
    message = first["msg"].removeprefix("Value error, ")
    return RowError(file, row, field_name, message)


class _FallbackKeys:
    """Keys for rows without a source id: their content, plus which repeat of identical content they are."""

    def __init__(self) -> None:
        self._seen: Counter[str] = Counter()

    def __call__(self, fields: dict[str, str]) -> str:
        content = "\x1f".join(f"{k}={v}" for k, v in sorted(fields.items()))
        self._seen[content] += 1
        return f"content:{content}#{self._seen[content]}"


def envelopes(spec: DatasetSpec, path: Path, partner: str, summary: PublishSummary) -> Iterator[EventEnvelope]:
    """Validate each row of `path` and yield its envelope; rejected rows are recorded in `summary`."""
    fallback = _FallbackKeys()
    for item in read_rows(path, spec.columns):
        summary.read += 1
        if isinstance(item, RowError):
            summary.errors.append(item)
            continue
        row = _validate(spec, item, summary)
        if row is None:
            continue
        key = spec.source_key(row) or fallback(item.fields)
        yield spec.to_envelope(row, partner, key)


def _validate(spec: DatasetSpec, item: SourceRow, summary: PublishSummary) -> BaseModel | None:
    try:
        return spec.row_model.model_validate(item.fields)
    except ValidationError as exc:
        summary.errors.append(_validation_error(summary.file, item.row, exc))
        return None


def publish_file(
    spec: DatasetSpec,
    path: Path,
    partner: str,
    send: Callable[[EventEnvelope], None],
) -> PublishSummary:
    """Publish every valid row of `path` through `send`; the summary says what was read and rejected."""
    summary = PublishSummary(file=str(path), dataset=spec.name)
    for envelope in envelopes(spec, path, partner, summary):
        send(envelope)
        summary.published += 1
    return summary
