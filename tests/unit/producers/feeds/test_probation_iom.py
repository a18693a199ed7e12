"""probation-iom: row validation, the envelope (offender pseudonym, no identifiers), the generated cohorts."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from producers.feed import SourceContext
from producers.feed_registry import get_feed
from producers.feeds.probation_iom import ProbationIomRow
from producers.generators.probation_iom import GENERATOR
from sharing_protocols.envelope import EventEnvelope
from tests.support.feeds import generated, options, publish, write
from tests.support.people_feeds import assert_no_identifiers

FEED = get_feed("probation-iom")
ROW = {
    "Offender Surname": "Fakename",
    "Offender Forename": "Zephyr",
    "Offender DOB": "11/11/1995",
    "PNC ID": "12/345678A",
    "Home Postcode": "BN22 8JW",
    "Cohort Period Start": "01/04/2024",
    "Cohort Period End": "30/06/2024",
    "Cohort": "IOM Fixed",
    "Reoffended": "Y",
    "Predicted Reoffending Rate": "0.78",
    "Offences Count": "2",
}


def _envelope(row: dict[str, str]) -> EventEnvelope:
    context = SourceContext(FEED.name, FEED.default_partner, "k", options(FEED).pseudonymise)
    return FEED.to_envelope(ProbationIomRow.model_validate(row), context)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"Offender DOB": ""}, "Offender DOB"),
        ({"PNC ID": ""}, "PNC ID"),
        ({"Cohort": "IOM Premium"}, "Cohort"),
        ({"Reoffended": "sometimes"}, "Reoffended"),
        ({"Predicted Reoffending Rate": "78"}, "Predicted Reoffending Rate"),
        ({"Offences Count": "-1"}, "Offences Count"),
        ({"Cohort Period Start": "Q1 2024"}, "Cohort Period Start"),
    ],
)
def test_bad_fields_are_named(change: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        ProbationIomRow.model_validate({**ROW, **change})
    assert info.value.errors()[0]["loc"][0] == field


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"Cohort Period End": "31/03/2024"}, "Cohort Period End is before Cohort Period Start"),
        ({"Reoffended": "N"}, "Reoffended must be Y exactly when"),
    ],
)
def test_inconsistent_rows_are_rejected(change: dict[str, str], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        ProbationIomRow.model_validate({**ROW, **change})


def test_the_envelope_carries_the_offender_period_and_no_identifier() -> None:
    envelope = _envelope(ROW)
    assert envelope.category == "iom-fixed"
    assert (envelope.occurred.start, envelope.occurred.end) == (date(2024, 4, 1), date(2024, 6, 30))
    attributes = envelope.attributes
    assert attributes["reoffended"] is True and attributes["offences_count"] == 2
    assert attributes["predicted_reoffending_rate"] == 0.78 and attributes["offender_age_band"] == "25-34"
    payload = envelope.to_bytes().decode()
    for identifier in ("Fakename", "Zephyr", "1995", "345678"):
        assert identifier not in payload


def test_an_offender_has_one_event_per_period_and_one_pseudonym() -> None:
    first, later = (
        _envelope(ROW),
        _envelope({**ROW, "Cohort Period Start": "01/07/2024", "Cohort Period End": "30/09/2024"}),
    )
    assert first.attributes["offender_pseudonym"] == later.attributes["offender_pseudonym"]
    assert FEED.source_key(ProbationIomRow.model_validate(ROW)) != FEED.source_key(
        ProbationIomRow.model_validate({**ROW, "Cohort Period Start": "01/07/2024", "Cohort Period End": "30/09/2024"})
    )


def test_the_generator_makes_cohorts_whose_reoffending_follows_the_predicted_rate(tmp_path: Path) -> None:
    records = generated(GENERATOR, rows=800)
    assert records == generated(GENERATOR, rows=800) and len(records) == 800
    events, summary = publish(FEED, write(GENERATOR, tmp_path / "iom.csv", records))
    assert summary.rejected == 0 and summary.published == len(records)
    assert_no_identifiers(events, records, "Offender")
    counts = Counter(e.category for e in events)
    assert set(counts) == {"iom-fixed", "iom-flex", "general"}
    rate = {c: sum(bool(e.attributes["reoffended"]) for e in events if e.category == c) / n for c, n in counts.items()}
    assert rate["iom-fixed"] > rate["general"]
    per_offender = Counter(e.attributes["offender_pseudonym"] for e in events)
    assert max(per_offender.values()) > 1
