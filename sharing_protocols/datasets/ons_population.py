"""ONS population estimates by area, sex and age band: the dataset as consumers see it."""

from __future__ import annotations

from sharing_protocols.dataset_spec import DatasetSpec

DATASET = "ons-population"

SPEC = DatasetSpec(
    name=DATASET,
    title="ONS population estimates by area, sex and age band",
    schema_version=1,
    attributes=("measure", "count", "sex", "age_band", "year", "source"),
    kind="reference",
    description="ONS mid-year and small-area population estimates and Census counts: denominators for rates.",
)
