"""What every dataset module declares: its row schema, how a row becomes an event, and what it must never publish."""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel

from sharing_protocols.envelope import EventEnvelope, OccurrencePeriod, keyed_event_id, stable_event_id
from sharing_protocols.free_text import FreeTextPolicy, scrub
from sharing_protocols.precision import TemporalPrecision

SourceFormat = Literal["csv", "xml"]
RowT = TypeVar("RowT", bound=BaseModel)


@dataclass(frozen=True)
class SourceContext:
    """What a row mapping may use besides the row: the partner, the record's key, pseudonyms and code lists.

    `pseudonymise(linkage_field, identifier)` returns the keyed pseudonym of an identifier for the linkage domain
    that the producer assigned to that field; the mapping never sees the key. `code_lists` holds the code lists a
    deployment configured, by name (absent when not configured: codes are then passed on as given).
    """

    dataset: str
    partner: str
    key: str
    pseudonymise: Callable[[str, str], str]
    code_lists: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    vocabulary: frozenset[str] | None = None  # a deployment's own free-text vocabulary (default: the built-in one)
    record_key: bytes | None = None  # the partner's secret for event ids; without it ids are a public uuid5

    @property
    def event_id(self) -> uuid.UUID:
        """The record's stable event id: the same source record always gets the same id."""
        if self.record_key is None:
            return stable_event_id(self.dataset, self.partner, self.key)
        return keyed_event_id(self.record_key, self.dataset, self.partner, self.key)

    def free_text(self, text: str | None, policy: FreeTextPolicy) -> str | None:
        """`text` scrubbed of identifiers under `policy` (None stays None)."""
        return None if text is None else scrub(text, policy, self.vocabulary).text

    def coded(self, code_list: str, column: str, code: str | None) -> str | None:
        """`code` checked against the deployment's `code_list` when one is configured (else passed on as given)."""
        known = self.code_lists.get(code_list)
        if code is None or known is None or code in known:
            return code
        raise RowValueError(column, f"is not a code of the configured code list {code_list!r}")


class RowValueError(ValueError):
    """A source value the row mapping refuses; names the column, never the value."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(f"{column}: {reason}")
        self.column = column
        self.reason = reason


@dataclass(frozen=True)
class DatasetSpec(Generic[RowT]):
    """One dataset: its name, schema version, source row model and mapping, and its privacy declarations.

    `attributes` names the event attributes `to_envelope` sets; `linkage` maps each pseudonym attribute to its
    default linkage domain; `free_text` names the attributes that are scrubbed free text; `identifiers` names the
    source columns that are direct identifiers (read only to make pseudonyms, never published); `retracted` says
    whether a source row withdraws its record (e.g. a cancelled crime) instead of stating it.
    """

    name: str
    title: str
    schema_version: int
    default_partner: str
    row_model: type[RowT]
    columns: tuple[str, ...]
    to_envelope: Callable[[RowT, SourceContext], EventEnvelope]
    source_key: Callable[[RowT], str | None]
    attributes: tuple[str, ...] = ()
    linkage: Mapping[str, str] = field(default_factory=dict)
    free_text: tuple[str, ...] = ()
    time_of_day: tuple[str, ...] = ()  # attributes finer than a day: published only where a protocol grants timestamps
    identifiers: tuple[str, ...] = ()
    formats: tuple[SourceFormat, ...] = ("csv",)
    xml_record: str | None = None  # the element name of one record in an XML export
    retracted: Callable[[RowT], bool] | None = None
    kind: Literal["event", "aggregate", "reference"] = "event"
    description: str = ""

    def weight(self, attributes: Mapping[str, object]) -> int:
        """What one record counts for: an aggregate's own released `count`, else 1.

        Reference records (population estimates by sex and age band) overlap one another, so each counts once.
        """
        count = attributes.get("count")
        if self.kind == "aggregate" and isinstance(count, int) and not isinstance(count, bool):
            return count
        return 1

    def coarsened(self, envelope: EventEnvelope, precision: TemporalPrecision | None) -> EventEnvelope:
        """`envelope` with its time no finer than `precision` (None: no protocol covers it, so the month only)."""
        changes: dict[str, object] = {}
        if precision != "timestamp" and any(envelope.attributes.get(name) is not None for name in self.time_of_day):
            changes["attributes"] = {k: (None if k in self.time_of_day else v) for k, v in envelope.attributes.items()}
        if precision in (None, "month") and envelope.occurred.precision == "day":
            start, end = envelope.occurred.start, envelope.occurred.end
            last = end.replace(day=calendar.monthrange(end.year, end.month)[1])
            changes["occurred"] = OccurrencePeriod(start=start.replace(day=1), end=last, precision="month")
        return envelope.model_copy(update=changes) if changes else envelope
