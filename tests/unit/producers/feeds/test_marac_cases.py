"""marac-cases: row validation, the envelope (pseudonyms, no identifiers), repeats the generator makes."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from producers.feed import SourceContext
from producers.feed_registry import get_feed
from producers.feeds.marac_cases import MaracCaseRow
from producers.generators.base import GenerateRequest, PostcodePoint, read_codepoint
from producers.generators.marac_cases import GENERATOR
from sharing_protocols.envelope import EventEnvelope, PostcodeLocation
from tests.support.feeds import options, publish, write
from tests.support.open_data import CODEPOINT, SHARED_DATA
from tests.support.people_feeds import assert_no_identifiers

FEED = get_feed("marac-cases")
ROW = {
    "Case ID": "MARAC-07-00012",
    "MARAC Area": "Eastbourne",
    "Referral Date": "02/07/2024",
    "Review Date": "16/07/2024",
    "Referring Agency": "Children's Social Care",
    "Victim Surname": "Testcase",
    "Victim Forename": "Ysolde",
    "Victim DOB": "03/02/1990",
    "Victim Postcode": "BN22 8JW",
    "Perpetrator Surname": "Fakename",
    "Perpetrator Forename": "Zephyr",
    "Perpetrator DOB": "11/11/1985",
    "Second Perpetrator Surname": "",
    "Second Perpetrator Forename": "",
    "Second Perpetrator DOB": "",
    "Risk Level": "High",
    "Information Only": "N",
    "Repeat": "Y",
}


def _east_sussex_postcodes() -> list[PostcodePoint]:
    """Postcodes of Eastbourne and Hastings: two MARACs, so that victims can move between them."""
    return read_codepoint(SHARED_DATA / CODEPOINT, ("E07000061", "E07000062"))


def _envelope(row: dict[str, str]) -> EventEnvelope:
    context = SourceContext(FEED.name, FEED.default_partner, "k", options(FEED).pseudonymise)
    return FEED.to_envelope(MaracCaseRow.model_validate(row), context)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"MARAC Area": "!!"}, "MARAC Area"),
        ({"Review Date": "16-07-2024"}, "Review Date"),
        ({"Victim Surname": ""}, "Victim Surname"),
        ({"Victim DOB": ""}, "Victim DOB"),
        ({"Victim Postcode": "BN22"}, "Victim Postcode"),
        ({"Perpetrator DOB": "11/13/1985"}, "Perpetrator DOB"),
        ({"Risk Level": "very high"}, "Risk Level"),
        ({"Information Only": "perhaps"}, "Information Only"),
    ],
)
def test_bad_fields_are_named(change: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        MaracCaseRow.model_validate({**ROW, **change})
    assert info.value.errors()[0]["loc"][0] == field


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"Review Date": "01/07/2024"}, "Review Date is before Referral Date"),
        ({"Perpetrator DOB": ""}, "Perpetrator Surname, Forename and DOB must be given together"),
        ({"Second Perpetrator Surname": "Jones"}, "Second Perpetrator Surname, Forename and DOB"),
    ],
)
def test_inconsistent_rows_are_rejected(change: dict[str, str], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        MaracCaseRow.model_validate({**ROW, **change})


def test_the_envelope_carries_the_case_with_pseudonyms_and_no_identifier() -> None:
    envelope = _envelope(ROW)
    assert envelope.category == "referral" and envelope.occurred.start == date(2024, 7, 16)
    assert envelope.location == PostcodeLocation(postcode="BN22 8JW")
    attributes = envelope.attributes
    assert attributes["marac_area"] == "eastbourne" and attributes["referring_agency"] == "childrens-social-care"
    assert attributes["days_referral_to_review"] == 14 and attributes["repeat_recorded"] is True
    assert (attributes["victim_age_band"], attributes["perpetrator_age_band"]) == ("25-34", "35-44")
    assert attributes["perpetrator_count"] == 1
    assert attributes["victim_pseudonym"] != attributes["perpetrator_pseudonym"]
    payload = envelope.to_bytes().decode()
    for identifier in ("Testcase", "Ysolde", "Fakename", "Zephyr", "1990", "1985", "02/07"):
        assert identifier not in payload


def test_a_second_perpetrator_is_counted_and_information_only_cases_have_their_own_category() -> None:
    second = {"Second Perpetrator Surname": "Jones", "Second Perpetrator Forename": "Leo"}
    envelope = _envelope({**ROW, **second, "Second Perpetrator DOB": "01/01/1980", "Information Only": "Y"})
    assert envelope.attributes["perpetrator_count"] == 2 and envelope.category == "information-only"
    assert envelope.attributes["perpetrator_pseudonym"] == _envelope(ROW).attributes["perpetrator_pseudonym"]


def test_the_generator_makes_repeat_cases_of_every_kind(tmp_path: Path) -> None:
    request = GenerateRequest(rows=500, seed=7, postcodes=_east_sussex_postcodes())
    records = list(GENERATOR.rows(request))
    assert records == list(GENERATOR.rows(request))
    events, summary = publish(FEED, write(GENERATOR, tmp_path / "marac.csv", records))
    assert summary.rejected == 0 and summary.published == len(records)
    assert_no_identifiers(events, records, "Victim")
    assert_no_identifiers(events, records, "Perpetrator")
    by_victim: dict[object, list[EventEnvelope]] = defaultdict(list)
    for event in sorted(events, key=lambda e: e.occurred.start):
        by_victim[event.attributes["victim_pseudonym"]].append(event)
    same, moved, new_perpetrator = 0, 0, 0
    for cases in by_victim.values():
        for before, after in itertools.pairwise(cases):
            if (after.occurred.start - before.occurred.start).days > 365:
                continue
            same += before.attributes["marac_area"] == after.attributes["marac_area"]
            moved += before.attributes["marac_area"] != after.attributes["marac_area"]
            new_perpetrator += before.attributes["perpetrator_pseudonym"] != after.attributes["perpetrator_pseudonym"]
    assert same >= 50 and moved >= 3 and new_perpetrator >= 10
    assert sum(e.category == "information-only" for e in events) >= 10
    assert 0.15 < sum(bool(e.attributes["repeat_recorded"]) for e in events) / len(events) < 0.5
