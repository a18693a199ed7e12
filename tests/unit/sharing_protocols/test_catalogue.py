"""What one record counts for in aggregates: an aggregate return's own count; anything else once."""

from __future__ import annotations

from sharing_protocols.catalogue import CATALOGUE


def test_an_aggregate_record_counts_for_its_own_count() -> None:
    assert CATALOGUE["health-admissions"].weight({"measure": "admissions", "count": 12}) == 12


def test_population_records_and_events_count_once() -> None:
    assert CATALOGUE["ons-population"].weight({"count": 101_547, "sex": "persons"}) == 1
    assert CATALOGUE["police-records"].weight({"count": 5}) == 1
    assert CATALOGUE["health-admissions"].weight({"count": True}) == 1  # not a number
