"""The data-quality status rule and usual weekly volume (pure logic; the SQL is tested in integration)."""

from __future__ import annotations

from datetime import UTC, datetime

from deploy.protocol_files import load_register, packaged_protocols_dir
from warehouse.queries.quality import _expected_feeds, feed_status, usual_weekly


def test_a_feed_that_never_sent_anything_has_no_data() -> None:
    assert feed_status(False, 0, 0.0) == "no_data"


def test_a_feed_with_earlier_data_but_nothing_this_week_is_silent_not_zero() -> None:
    assert feed_status(True, 0, 120.0) == "silent"
    assert feed_status(True, 0, 0.0) == "silent"  # data long ago, none in the last 8 weeks: still silent


def test_below_half_the_usual_week_is_low() -> None:
    assert feed_status(True, 49, 100.0) == "low"
    assert feed_status(True, 50, 100.0) == "ok"
    assert feed_status(True, 3, 0.0) == "ok"  # a new feed has no usual volume to fall short of


def test_usual_weekly_volume_is_the_median_of_the_weeks() -> None:
    assert usual_weekly([0, 0, 0, 10, 10, 10, 10, 500]) == 10.0
    assert usual_weekly([1, 2, 3, 4, 5, 6, 7, 8]) == 4.5
    assert usual_weekly([]) == 0.0


def test_expected_feeds_are_the_data_owners_of_protocols_in_force() -> None:
    register = load_register([packaged_protocols_dir()])
    now = datetime(2026, 11, 1, tzinfo=UTC)
    expected = _expected_feeds(register, now)
    in_force = register.active_at(now.date())
    assert expected
    for (dataset, owner), labels in expected.items():
        assert labels
        for label in labels:
            protocol = next(p for p in in_force if p.label == label)
            assert dataset in protocol.datasets and owner in protocol.owner_ids
    assert _expected_feeds(register, datetime(1990, 1, 1, tzinfo=UTC)) == {}
