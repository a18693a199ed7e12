"""s17A health return: outward codes, ICD-10 shapes and quarters validated by field; aggregate events span the
quarter; generated returns publish without rejections."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from producers.feed import SourceContext
from producers.feeds.health_admissions import FEED, HealthAdmissionsRow
from producers.generators.health_admissions import GENERATOR
from sharing_protocols.envelope import PostcodeLocation
from tests.support.feeds import generated, options, publish, write

ROW = {"Outward Code": "bn21", "ICD10 Block": "X85-Y09", "Quarter": "2024-Q2", "Admissions": "7"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"Outward Code": "BN21 4UH"}, "Outward Code"),
        ({"ICD10 Block": "assault"}, "ICD10 Block"),
        ({"ICD10 Block": "Y09-X85"}, "ICD10 Block"),
        ({"Quarter": "2024-Q5"}, "Quarter"),
        ({"Admissions": "*"}, "Admissions"),
        ({"Admissions": "-1"}, "Admissions"),
    ],
)
def test_bad_fields_are_named(change: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        HealthAdmissionsRow.model_validate({**ROW, **change})
    assert info.value.errors()[0]["loc"][0] == field


def test_the_event_is_a_count_for_the_quarter_and_outward_code() -> None:
    row = HealthAdmissionsRow.model_validate(ROW)
    opts = options(FEED)
    event = FEED.to_envelope(row, SourceContext(FEED.name, opts.partner, FEED.source_key(row) or "", opts.pseudonymise))
    assert FEED.source_key(row) == "BN21|X85-Y09|2024-Q2"
    assert (event.occurred.start, event.occurred.end, event.occurred.precision) == (
        date(2024, 4, 1),
        date(2024, 6, 30),
        "month",
    )
    assert event.location == PostcodeLocation(postcode="BN21") and event.category == "x85-y09"
    assert event.attributes == {"measure": "admissions", "count": 7, "icd10_block": "X85-Y09", "quarter": "2024-Q2"}
    assert FEED.spec.kind == "aggregate"


def test_generated_returns_are_deterministic_and_publish_without_rejections(tmp_path: Path) -> None:
    records = generated(GENERATOR, rows=300)
    assert records == generated(GENERATOR, rows=300) and records != generated(GENERATOR, rows=300, seed=8)
    keys = {(r["Outward Code"], r["ICD10 Block"], r["Quarter"]) for r in records}
    # Eastbourne: 4 outward codes x 4 blocks x 4 quarters, each once.
    assert len(keys) == len(records) == 64 and any(r["Admissions"] == "0" for r in records)
    assert len(generated(GENERATOR, rows=10)) == 10
    events, summary = publish(FEED, write(GENERATOR, tmp_path / "admissions.csv", records))
    assert (summary.published, summary.rejected, summary.duplicates) == (64, 0, 0)
    assert sum(e.attributes["count"] for e in events) == sum(int(r["Admissions"]) for r in records)  # type: ignore[misc]
