"""What every consumer knows of a dataset: its name, schema version, attributes and privacy declarations."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from sharing_protocols.envelope import EventEnvelope, OccurrencePeriod
from sharing_protocols.precision import TemporalPrecision


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset as its events carry it: name, title, schema version, attributes and privacy declarations.

    `attributes` names the event attributes its producers set; `linkage` maps each pseudonym attribute to its
    default linkage domain; `free_text` names the attributes that are scrubbed free text; `time_of_day` names the
    attributes finer than a day. How a partner's rows become these events is the producer's (producers.feeds).
    """

    name: str
    title: str
    schema_version: int
    attributes: tuple[str, ...] = ()
    linkage: Mapping[str, str] = field(default_factory=dict)
    free_text: tuple[str, ...] = ()
    time_of_day: tuple[str, ...] = ()  # attributes finer than a day: published only where a protocol grants timestamps
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
