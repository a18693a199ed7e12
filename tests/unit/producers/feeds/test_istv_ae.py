"""ISTV A&E: row validation names the field, events carry the assault and no patient identifier, the test code
lists are enforced when configured, and generated CSV and XML extracts publish without rejections."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from producers.code_lists import read_code_lists
from producers.feed import RowValueError, SourceContext
from producers.feeds.istv_ae import FEED, IstvAeRow
from producers.generators.istv_ae import GENERATOR, TEST_CODES, write_test_code_lists
from sharing_protocols.envelope import PostcodeLocation
from tests.support.feeds import generated, options, publish, write

ROW = {
    "ReportingPeriod": "2024-06",
    "SiteCode": "RXC01",
    "AttendanceId": "ED0000123",
    "ArrivalDate": "2024-06-02",
    "ArrivalTime": "01:40",
    "AssaultDate": "2024-06-01",
    "AssaultTime": "23:15",
    "AssaultMethod": "T01",
    "AssaultLocationType": "T02",
    "AssaultMethodDescription": "punched in the face by Zephyr Fakename",
    "AssaultLocationDescription": "outside the pub, call 07700 900123",
    "IncidentPostcode": "bn21 4uh",
    "DateOfBirth": "2001-06-02",
    "Sex": "1",
    "NhsNumber": "999 123 4561",
}


def _context(code_lists: dict[str, dict[str, str]] | None = None) -> SourceContext:
    opts = options(FEED, code_lists)
    return SourceContext(FEED.name, opts.partner, "RXC01:ED0000123", opts.pseudonymise, opts.code_lists)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ReportingPeriod": "2024-13"}, "ReportingPeriod"),
        ({"SiteCode": "Eastbourne"}, "SiteCode"),
        ({"AttendanceId": ""}, "AttendanceId"),
        ({"ArrivalDate": "02/06/2024"}, "ArrivalDate"),
        ({"AssaultTime": "25:00"}, "AssaultTime"),
        ({"IncidentPostcode": "BN21"}, "IncidentPostcode"),
        ({"Sex": "M"}, "Sex"),
        ({"AssaultMethod": "knife or blade"}, "AssaultMethod"),
    ],
)
def test_bad_fields_are_named(change: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        IstvAeRow.model_validate({**ROW, **change})
    assert info.value.errors()[0]["loc"][0] == field
    message = info.value.errors(include_input=False)[0]["msg"]  # what the producer reports
    assert all(value not in message for value in change.values() if len(value) > 2)


def test_an_assault_after_arrival_is_rejected() -> None:
    with pytest.raises(ValidationError, match="AssaultDate is after ArrivalDate"):
        IstvAeRow.model_validate({**ROW, "AssaultDate": "2024-06-03"})


def test_a_birth_between_the_assault_and_the_arrival_rejects_the_row_naming_the_column() -> None:
    born_after_assault = IstvAeRow.model_validate({**ROW, "DateOfBirth": "2024-06-02"})
    with pytest.raises(RowValueError) as info:
        FEED.to_envelope(born_after_assault, _context())
    assert info.value.column == "DateOfBirth" and "2024-06-02" not in str(info.value)


def test_the_event_carries_the_assault_and_no_identifier() -> None:
    event = FEED.to_envelope(IstvAeRow.model_validate(ROW), _context())
    assert event.category == "assault" and event.occurred.start.isoformat() == "2024-06-01"
    assert event.location == PostcodeLocation(postcode="BN21 4UH")
    attrs = event.attributes
    assert (attrs["assault_method"], attrs["assault_location_type"]) == ("T01", "T02")
    assert (attrs["age_band"], attrs["sex"], attrs["assault_hour"], attrs["arrival_hour"]) == ("18-24", "male", 23, 1)
    assert attrs["method_description"] == "punched in the face by [redacted]"
    assert attrs["location_description"] == "outside the pub [redacted]"
    payload = event.to_bytes().decode()
    for secret in ("2001-06-02", "999 123 4561", "9991234561", "Zephyr", "Fakename", "07700"):
        assert secret not in payload


def test_a_postcode_in_the_location_text_is_scrubbed_and_never_becomes_the_location() -> None:
    row = {**ROW, "IncidentPostcode": "", "AssaultLocationDescription": "outside the pub near BN21 4UH"}
    event = FEED.to_envelope(IstvAeRow.model_validate(row), _context())
    assert event.location is None and "BN21" not in event.to_bytes().decode()
    assert event.attributes["location_description"] == "outside the pub near [redacted]"
    unlocated = {**ROW, "IncidentPostcode": "", "AssaultLocationDescription": "in the park"}
    assert FEED.to_envelope(IstvAeRow.model_validate(unlocated), _context()).location is None


def test_codes_are_checked_only_against_a_configured_list(tmp_path: Path) -> None:
    unknown = IstvAeRow.model_validate({**ROW, "AssaultMethod": "Z99"})
    assert FEED.to_envelope(unknown, _context()).attributes["assault_method"] == "Z99"
    write_test_code_lists(tmp_path)
    lists = read_code_lists(tmp_path)
    assert lists["istv-assault-method"] == lists["istv-assault-location-type"] == TEST_CODES
    with pytest.raises(RowValueError) as info:
        FEED.to_envelope(unknown, _context(lists))
    assert info.value.column == "AssaultMethod" and "Z99" not in str(info.value)


def test_the_generator_is_deterministic_and_uses_only_test_codes() -> None:
    records = generated(GENERATOR)
    assert records == generated(GENERATOR) and records != generated(GENERATOR, seed=8)
    assert {r["AssaultMethod"] for r in records} <= set(TEST_CODES)
    assert {r["AssaultLocationType"] for r in records} <= set(TEST_CODES)
    nights = sum(1 for r in records if r["AssaultTime"] and not 6 <= int(r["AssaultTime"][:2]) < 20)
    assert nights > sum(1 for r in records if r["AssaultTime"]) / 2


@pytest.mark.parametrize("suffix", [".csv", ".xml"])
def test_generated_extracts_publish_without_rejections_and_without_identifiers(tmp_path: Path, suffix: str) -> None:
    records = generated(GENERATOR)
    write_test_code_lists(tmp_path / "codes")
    path = write(GENERATOR, tmp_path / f"istv{suffix}", records)
    events, summary = publish(FEED, path, options(FEED, read_code_lists(tmp_path / "codes")))
    assert (summary.read, summary.published, summary.rejected) == (len(records), len(records), 0)
    located = sum(1 for e in events if e.location is not None)
    assert len(records) / 2 < located < len(records)
    payload = b"".join(e.to_bytes() for e in events).decode()
    for record in records:
        assert record["NhsNumber"] not in payload and record["DateOfBirth"] not in payload
    assert "07700" not in payload
