"""Per-field retention in the warehouse decision, with the packaged protocols: the case of issue 12."""

from __future__ import annotations

import uuid
from datetime import date

from deploy.protocol_files import register_at
from sharing_protocols.decision import EventFacts, Released, decide_for_warehouse

DAY = date(2026, 12, 2)
THIRTEEN_MONTHS, TWENTY_FOUR_MONTHS = date(2028, 1, 2), date(2028, 12, 2)  # DAY + each protocol's months


def _decision() -> Released:
    event = EventFacts(
        uuid.uuid4(),
        "police-records",
        "sussex-police",
        "violent-crime",
        date(2026, 11, 3),
        date(2026, 11, 3),
        "day",
        areas={"ward": "E05011111", "district": "E07000061"},
        attributes={"victim_pseudonym": "p1", "hour": 13, "domestic_abuse": True, "offence_code": "8N"},
    )
    decision = decide_for_warehouse(event, register_at([]), DAY)
    assert isinstance(decision, Released)
    return decision


def test_fields_granted_only_by_the_short_clause_are_kept_only_for_its_months() -> None:
    kept = _decision().field_retention
    assert kept["victim_pseudonym"] == kept["hour"] == THIRTEEN_MONTHS
    assert kept["clause:repeat-victimisation-counts@1#police-repeat-victim-counts"] == THIRTEEN_MONTHS


def test_fields_the_long_clause_grants_are_kept_for_its_months_even_when_the_short_one_grants_them_too() -> None:
    kept = _decision().field_retention
    for part in ("category", "domestic_abuse", "offence_code", "location:ward", "location:district", "period:day"):
        assert kept[part] == TWENTY_FOUR_MONTHS, part
    assert kept["clause:police-records-to-csp@1#ward-day-records"] == TWENTY_FOUR_MONTHS


def test_the_event_goes_with_its_longest_part_and_nothing_is_kept_that_was_not_released() -> None:
    decision = _decision()
    assert decision.retain_until == max(decision.field_retention.values()) == TWENTY_FOUR_MONTHS
    attributes = {k for k in decision.field_retention if ":" not in k and k != "category"}
    assert attributes == set(decision.attributes)
    assert "location:point" not in decision.field_retention and "period:timestamp" not in decision.field_retention
