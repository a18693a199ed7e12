"""police.uk API format: fields validated by name, the API id is the key, street names scrubbed, and the real
Colchester extract publishes in full."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from producers.feed import SourceContext
from producers.feeds.police_uk_api import FEED, PoliceUkApiRow
from sharing_protocols.envelope import Wgs84Point
from tests.support.feeds import options, publish
from tests.support.open_data import COLCHESTER_API, SHARED_DATA

REAL = SHARED_DATA / COLCHESTER_API
ROW = {
    "category": "violent-crime",
    "persistent_id": "b" * 64,
    "date": "2023-03",
    "lat": "51.889",
    "long": "0.9",
    "street_id": "2153077",
    "street_name": "On or near Culver Street West",
    "context": "",
    "id": "107595950",
    "location_type": "Force",
    "location_subtype": "",
    "outcome_status": "Unable to prosecute suspect",
}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"category": "Violence and sexual offences"}, "category"),
        ({"persistent_id": "xyz"}, "persistent_id"),
        ({"date": "2023-3"}, "date"),
        ({"lat": "north"}, "lat"),
        ({"id": ""}, "id"),
        ({"location_type": "Council"}, "location_type"),
    ],
)
def test_bad_fields_are_named(change: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        PoliceUkApiRow.model_validate({**ROW, **change})
    assert info.value.errors()[0]["loc"][0] == field


def _event(row: dict[str, str]) -> dict[str, object]:
    parsed = PoliceUkApiRow.model_validate(row)
    opts = options(FEED)
    ctx = SourceContext(FEED.name, opts.partner, FEED.source_key(parsed) or "", opts.pseudonymise)
    return FEED.to_envelope(parsed, ctx).model_dump()


def test_the_event_carries_month_point_category_and_outcome() -> None:
    event = _event(ROW)
    assert FEED.source_key(PoliceUkApiRow.model_validate(ROW)) == "107595950"
    assert event["location"] == Wgs84Point(lon=0.9, lat=51.889).model_dump()
    assert event["category"] == "violent-crime" and event["occurred"]["start"].isoformat() == "2023-03-01"  # type: ignore[index]
    assert event["attributes"] == {
        "crime_id": "b" * 64,
        "location_description": "On or near Culver Street West",
        "location_type": "force",
        "last_outcome_category": "Unable to prosecute suspect",
    }


def test_na_outcomes_blank_ids_and_unusable_street_names_become_null() -> None:
    event = _event({**ROW, "persistent_id": "", "outcome_status": "NA", "street_name": "On or near 07700 900123"})
    attributes = event["attributes"]
    assert isinstance(attributes, dict)
    assert attributes["crime_id"] is None and attributes["last_outcome_category"] is None
    assert attributes["location_description"] is None


def test_the_real_colchester_extract_publishes_in_full() -> None:
    events, summary = publish(FEED, REAL)
    assert (summary.read, summary.published, summary.rejected, summary.duplicates) == (6878, 6878, 0, 0)
    assert len({e.event_id for e in events}) == 6878
    assert sum(1 for e in events if e.category == "anti-social-behaviour") == 677
