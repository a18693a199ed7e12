"""The police.uk row schema, its envelope, and stable event ids."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from producers.feed import SourceContext
from producers.feed_registry import get_feed
from producers.feeds.police_uk_street import PoliceUkStreetRow
from producers.publish import PublishSummary, SourceOptions, envelopes, unlinked
from sharing_protocols.envelope import EventEnvelope, Wgs84Point

ROW = {
    "Crime ID": "a" * 64,
    "Month": "2019-01",
    "Reported by": "Sussex Police",
    "Falls within": "Sussex Police",
    "Longitude": "0.28",
    "Latitude": "50.77",
    "Location": "On or near Grove Road",
    "LSOA code": "E01020999",
    "LSOA name": "Eastbourne 001A",
    "Crime type": "Drugs",
    "Last outcome category": "",
    "Context": "",
}


def _error_field(row: dict[str, str]) -> str:
    with pytest.raises(ValidationError) as info:
        PoliceUkStreetRow.model_validate(row)
    return str(info.value.errors()[0]["loc"][0])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"Month": "2019-13"}, "Month"),
        ({"Month": ""}, "Month"),
        ({"Longitude": "east"}, "Longitude"),
        ({"Latitude": "91"}, "Latitude"),
        ({"Crime type": "Jaywalking"}, "Crime type"),
        ({"Crime ID": "not-hex"}, "Crime ID"),
    ],
)
def test_bad_fields_are_named(change: dict[str, str], field: str) -> None:
    assert _error_field({**ROW, **change}) == field


def test_one_coordinate_alone_is_rejected() -> None:
    with pytest.raises(ValidationError, match="Latitude is missing"):
        PoliceUkStreetRow.model_validate({**ROW, "Latitude": ""})


def test_envelope_carries_month_point_and_category() -> None:
    feed = get_feed("police-uk-street")
    row = feed.row_model.model_validate(ROW)
    envelope = feed.to_envelope(row, SourceContext(feed.name, "sussex-police", "k", unlinked))
    assert envelope.occurred.start == date(2019, 1, 1) and envelope.occurred.end == date(2019, 1, 31)
    assert envelope.location == Wgs84Point(lon=0.28, lat=50.77)
    assert envelope.category == "drugs"
    assert EventEnvelope.from_bytes(envelope.to_bytes()) == envelope


def test_ids_are_stable_across_runs_and_identical_rows_stay_distinct(tmp_path: Path) -> None:
    feed = get_feed("police-uk-street")
    asb = {**ROW, "Crime ID": "", "Crime type": "Anti-social behaviour"}
    lines = [",".join(ROW), ",".join(ROW.values()), ",".join(asb.values()), ",".join(asb.values())]
    path = tmp_path / "f.csv"
    path.write_text("\n".join(lines) + "\n")

    def ids() -> list[str]:
        summary = PublishSummary(str(path), feed.name)
        return [str(e.event_id) for e in envelopes(feed, path, SourceOptions("p", unlinked), summary)]

    first = ids()
    assert len(first) == 3 and len(set(first)) == 3
    assert ids() == first


@pytest.mark.parametrize("blank", ["", "   ", "\t"])
def test_blank_optional_cells_are_none_by_column_or_field_name_and_the_row_given_is_left_as_it_was(blank: str) -> None:
    by_column = {**ROW, "Crime ID": blank, "Longitude": blank, "Latitude": blank, "LSOA code": blank}
    given = dict(by_column)
    row = PoliceUkStreetRow.model_validate(by_column)
    assert (row.crime_id, row.longitude, row.latitude, row.lsoa_code, row.last_outcome_category) == (None,) * 5
    assert by_column == given  # fallback keys and error reports read the row as it came
    by_name = {"month": "2019-01", "reported_by": "x", "falls_within": "x", "crime_type": "Drugs", "location": blank}
    assert PoliceUkStreetRow.model_validate(by_name).location is None


def test_a_blank_required_cell_is_still_refused_with_its_own_message() -> None:
    with pytest.raises(ValidationError) as info:
        PoliceUkStreetRow.model_validate({**ROW, "Reported by": "  "})
    [error] = info.value.errors()
    assert error["loc"] == ("Reported by",) and error["type"] == "string_too_short"


PINNED_ID = "6498a587-f37d-4138-a4a7-e4f9d05fcc86"  # computed by the first implementation


def test_keyed_event_ids_are_the_hmac_of_the_record_as_first_defined() -> None:
    """For the same record and key, the id is still HMAC-SHA256(key, "event-id" US dataset US partner US key) cut to
    16 bytes with the uuid version 4 bits, as first written (ids already on topics must not change)."""
    feed = get_feed("police-uk-street")
    secret = bytes(range(32))
    for key in ("a" * 64, "content:abc#2", "\u00e9\x00"):
        message = f"event-id\x1f{feed.name}\x1fsussex-police\x1f{key}".encode()
        expected = uuid.UUID(bytes=hmac.new(secret, message, hashlib.sha256).digest()[:16], version=4)
        ctx = SourceContext(feed.name, "sussex-police", key, unlinked, record_key=secret)
        assert ctx.event_id == expected
    pinned = SourceContext(feed.name, "p", "k", unlinked, record_key=b"r" * 32).event_id
    assert str(pinned) == PINNED_ID
