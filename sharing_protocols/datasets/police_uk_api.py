"""data.police.uk API crimes and anti-social behaviour: the dataset as consumers see it."""

from __future__ import annotations

from sharing_protocols.dataset_spec import DatasetSpec

DATASET = "police-uk-api"

SPEC = DatasetSpec(
    name=DATASET,
    title="data.police.uk API crimes and anti-social behaviour",
    schema_version=1,
    attributes=("crime_id", "location_description", "location_type", "last_outcome_category"),
    free_text=("location_description",),
    description="Street-level crimes as the police.uk API returns them: already anonymised, on snapped map points.",
)
