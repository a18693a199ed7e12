"""Aggregate returns: counts a service already aggregates by district and period, one measure per record."""

from __future__ import annotations

from sharing_protocols.dataset_spec import DatasetSpec

DATASET = "aggregate-returns"

SPEC = DatasetSpec(
    name=DATASET,
    title="Aggregate returns by district and period (e.g. drug and alcohol treatment)",
    schema_version=1,
    attributes=("measure", "count", "reporting_period"),
    kind="aggregate",
    description="Counts a partner already aggregates by district and month or quarter, one measure per row.",
)
