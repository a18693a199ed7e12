"""What every feed module declares: a partner format's row model, columns and mapping of a row to an event.

A `Feed` is the producer's side of one dataset of the contract (`sharing_protocols.catalogue`): which columns the
partner's export has, how a row is validated, keyed and turned into an event, and which of its columns are
direct identifiers (read only to make pseudonyms, never published).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel

from producers.anonymisation.free_text import FreeTextPolicy, scrubbed_text
from sharing_protocols.dataset_spec import DatasetSpec
from sharing_protocols.envelope import EventEnvelope, keyed_event_id, stable_event_id

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
        return None if text is None else scrubbed_text(text, policy, self.vocabulary)

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
class Feed(Generic[RowT]):
    """One partner format of a dataset: its row model and columns, and how a row becomes an event.

    `spec` is the contract's dataset, whose attributes `to_envelope` sets; `identifiers` names the source columns
    that are direct identifiers (read only to make pseudonyms, never published); `dropped` names the columns of the
    partner's export the feed never reads (identifiers it must not take, fields it has no use for): expected, and
    left out; any other column is refused unless the publisher allows extra columns. `retracted` says whether a
    source row withdraws its record (e.g. a cancelled crime) instead of stating it.
    """

    spec: DatasetSpec
    default_partner: str
    row_model: type[RowT]
    columns: tuple[str, ...]
    to_envelope: Callable[[RowT, SourceContext], EventEnvelope]
    source_key: Callable[[RowT], str | None]
    identifiers: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    formats: tuple[SourceFormat, ...] = ("csv",)
    xml_record: str | None = None  # the element name of one record in an XML export
    retracted: Callable[[RowT], bool] | None = None

    @property
    def name(self) -> str:
        """The dataset's name (the feed's name on the command line)."""
        return self.spec.name
