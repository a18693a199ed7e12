"""What one record counts for in aggregates: an aggregate return's own count; anything else once."""

from __future__ import annotations

import pytest

from sharing_protocols.catalogue import CATALOGUE


def test_an_aggregate_record_counts_for_its_own_count() -> None:
    assert CATALOGUE["health-admissions"].weight({"measure": "admissions", "count": 12}) == 12


@pytest.mark.parametrize(
    ("dataset", "attributes"),
    [
        ("ons-population", {"count": 101_547, "sex": "persons"}),
        ("police-records", {"count": 5}),
        ("health-admissions", {"count": True}),  # not a number
    ],
)
def test_population_records_and_events_count_once(dataset: str, attributes: dict[str, object]) -> None:
    assert CATALOGUE[dataset].weight(attributes) == 1
