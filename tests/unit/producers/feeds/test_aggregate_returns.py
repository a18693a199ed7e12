"""Aggregate returns: districts, periods and measures validated by field; zero counts published; quarters span
three months; generated returns publish without rejections."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from producers.feed import SourceContext
from producers.feeds.aggregate_returns import FEED, AggregateReturnRow
from producers.generators.aggregate_returns import GENERATOR
from sharing_protocols.envelope import AreaLocation
from tests.support.feeds import generated, options, publish, write

ROW = {"Area Code": "E07000061", "Period": "2024-05", "Measure": "in-treatment-opiate", "Count": "0"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"Area Code": "E05003923"}, "Area Code"),
        ({"Period": "May 2024"}, "Period"),
        ({"Measure": "In treatment"}, "Measure"),
        ({"Count": "1.5"}, "Count"),
    ],
)
def test_bad_fields_are_named(change: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        AggregateReturnRow.model_validate({**ROW, **change})
    assert info.value.errors()[0]["loc"][0] == field


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [("2024-05", date(2024, 5, 1), date(2024, 5, 31)), ("2024-Q4", date(2024, 10, 1), date(2024, 12, 31))],
)
def test_a_count_of_zero_is_an_event_on_the_district(period: str, start: date, end: date) -> None:
    row = AggregateReturnRow.model_validate({**ROW, "Period": period})
    opts = options(FEED)
    event = FEED.to_envelope(row, SourceContext(FEED.name, opts.partner, FEED.source_key(row) or "", opts.pseudonymise))
    assert event.location == AreaLocation(level="lad", code="E07000061")
    assert (event.occurred.start, event.occurred.end, event.occurred.precision) == (start, end, "month")
    assert event.category == "in-treatment-opiate" and event.attributes["count"] == 0
    assert event.attributes["measure"] == "in-treatment-opiate" and event.attributes["reporting_period"] == period


def test_generated_returns_are_deterministic_and_publish_without_rejections(tmp_path: Path) -> None:
    records = generated(GENERATOR, rows=5000)
    assert records == generated(GENERATOR, rows=5000)
    assert {r["Area Code"] for r in records} == {"E07000061"}
    assert any(r["Count"] == "0" for r in records) and any(r["Period"].endswith("Q2") for r in records)
    events, summary = publish(FEED, write(GENERATOR, tmp_path / "returns.csv", records))
    assert (summary.published, summary.rejected, summary.duplicates) == (len(records), 0, 0)
    assert {e.category for e in events} >= {"in-treatment-alcohol", "new-presentations", "deaths-in-treatment"}
