"""`decide_for_warehouse` for many events of one day, worked out once per distinct combination of its inputs.

The decision depends on the event's partner, dataset and category, its period precision, which places it has
(a point, which area levels, a postcode and whether it has a sector), the names of its attributes, and - only
when a clause covering the partner's dataset has a geographic scope - its codes at the scope levels. Everything
else of the decision (grants, in-force checks, justifications, fields, retention) follows from those. The values
that vary from event to event with the same inputs are applied per event exactly as the engine does: the event
id, the places (coarsened from the event's own point, codes or postcode), the period label and the attribute
values. `tests/unit/stream_processors/test_decision_memo.py` checks the result equals the engine's.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from types import MappingProxyType
from typing import NamedTuple

from sharing_protocols.decision import Decision, EventFacts, ProtocolRegister, Released, decide_for_warehouse
from sharing_protocols.envelope import AttributeValue
from sharing_protocols.postcode_format import sector as postcode_sector
from sharing_protocols.precision import Place, coarsen_period, coarsen_place
from sharing_protocols.protocol import SCOPE_LEVELS

_AREA_LEVELS = ("lsoa", "ward", "district")  # EventFacts.areas, in a fixed order for the key
_MAX_ENTRIES = 50_000  # distinct combinations kept before the memo starts again


class WarehouseEvent(NamedTuple):
    """The inputs of one warehouse decision, as `EventFacts.from_envelope` takes them (no time of day)."""

    event_id: uuid.UUID
    dataset: str
    partner: str
    category: str
    period_start: date
    period_end: date
    period_precision: str
    attributes: Mapping[str, AttributeValue]
    x: float | None
    y: float | None
    areas: Mapping[str, str | None]  # "lsoa", "ward", "district"
    postcode: str | None
    regions: Mapping[str, str | None]  # "csp", "county", "pfa"

    def facts(self) -> EventFacts:
        """The engine's view of the event."""
        point = None if self.x is None or self.y is None or math.isnan(self.x) or math.isnan(self.y) else 1
        return EventFacts(
            event_id=self.event_id,
            dataset=self.dataset,
            partner=self.partner,
            category=self.category,
            period_start=self.period_start,
            period_end=self.period_end,
            period_precision=self.period_precision,  # type: ignore[arg-type]
            x=float(self.x) if point and self.x is not None else None,
            y=float(self.y) if point and self.y is not None else None,
            areas={level: code for level, code in self.areas.items() if code},
            postcode=self.postcode or None,
            attributes=self.attributes,
            regions={level: code for level, code in self.regions.items() if code},
        )


class WarehouseDecisions:
    """The warehouse decisions of one register on one day; equal to `decide_for_warehouse` event by event."""

    def __init__(self, register: ProtocolRegister, on: date) -> None:
        self.register = register
        self.on = on
        self._plans: dict[tuple[object, ...], Decision] = {}
        self._scoped: dict[tuple[str, str], bool] = {}
        self._periods: dict[tuple[str, date, date, str], str] = {}  # coarsen_period's label, per distinct input

    def _is_scoped(self, partner: str, dataset: str) -> bool:
        """Whether any clause that could cover the partner's dataset has a geographic scope."""
        key = (partner, dataset)
        found = self._scoped.get(key)
        if found is None:
            owned, others = self.register.coverage(partner, dataset)
            found = self._scoped[key] = any(g.clause.scope is not None for g in (*owned, *others))
        return found

    def _key(self, event: WarehouseEvent, point: bool, areas: Mapping[str, str]) -> tuple[object, ...]:
        """Exactly the inputs the decision depends on beyond the per-event values applied in `decide`."""
        postcode = event.postcode or None
        scope: tuple[str | None, ...] = ()
        if self._is_scoped(event.partner, event.dataset):
            regions = event.regions
            scope = tuple(
                (areas.get(level) if level == "district" else regions.get(level)) or None for level in SCOPE_LEVELS
            )
        return (
            event.partner,
            event.dataset,
            event.category,
            event.period_precision,
            point,
            tuple(level in areas for level in _AREA_LEVELS),
            postcode is not None,
            postcode is not None and postcode_sector(postcode) is not None,
            tuple(event.attributes),
            scope,
        )

    def decide(self, event: WarehouseEvent) -> Decision:
        """`decide_for_warehouse(event.facts(), register, on)`, from the memo when its inputs were seen."""
        x, y = event.x, event.y
        point = not (x is None or y is None or math.isnan(x) or math.isnan(y))
        areas = {level: code for level, code in event.areas.items() if code}
        key = self._key(event, point, areas)
        template = self._plans.get(key)
        if template is None:
            if len(self._plans) >= _MAX_ENTRIES:
                self._plans.clear()
            decision = decide_for_warehouse(event.facts(), self.register, self.on)
            self._plans[key] = decision
            return decision
        if not isinstance(template, Released):
            return replace(template, event_id=event.event_id)
        places: tuple[Place, ...] = tuple(
            place
            for previous in template.places
            if (
                place := coarsen_place(
                    previous.precision,
                    float(x) if point and x is not None else None,
                    float(y) if point and y is not None else None,
                    areas,
                    event.postcode or None,
                )
            )
            is not None
        )
        period = template.period
        if template.temporal_precision is not None:
            period_key = (template.temporal_precision, event.period_start, event.period_end, event.period_precision)
            found = self._periods.get(period_key)
            if found is None:
                if len(self._periods) >= _MAX_ENTRIES:
                    self._periods.clear()
                found = self._periods[period_key] = coarsen_period(
                    template.temporal_precision,
                    event.period_start,
                    event.period_end,
                    event.period_precision,  # type: ignore[arg-type]
                    None,
                )[0]
            period = found
        attributes = event.attributes
        t = template  # every field given, by the constructor: `dataclasses.replace` cost about 14 us per event
        return Released(
            event_id=event.event_id,
            dataset=t.dataset,
            recipient=t.recipient,
            fields=t.fields,
            category=t.category,
            period=period,
            temporal_precision=t.temporal_precision,
            places=places,
            attributes=MappingProxyType({name: attributes[name] for name in t.attributes}),
            output=t.output,
            disclosure=t.disclosure,
            linkage_allowed=t.linkage_allowed,
            retain_until=t.retain_until,
            chosen=t.chosen,
            justifications=t.justifications,
            fields_dropped=t.fields_dropped,
            notes=t.notes,
            field_retention=t.field_retention,
        )
