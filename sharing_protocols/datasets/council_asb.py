"""Council anti-social behaviour cases (NSIR 2011): the dataset as consumers see it."""

from __future__ import annotations

from sharing_protocols.dataset_spec import DatasetSpec

DATASET = "council-asb"

SPEC = DatasetSpec(
    name=DATASET,
    title="Council anti-social behaviour cases (NSIR 2011)",
    schema_version=1,
    attributes=(
        "nsir_category",
        "incident_type",
        "incident_type_text",
        "risk_tier",
        "case_status",
        "victim_pseudonym",
        "victim_age_band",
        "description",
        "hour",
    ),
    linkage={"victim_pseudonym": "person"},
    free_text=("incident_type_text", "description"),
    time_of_day=("hour",),
    description=(
        "ASB cases by NSIR category (asb-personal, asb-nuisance, asb-environmental), with the pre-2011 incident "
        "type where recorded, risk tier and a victim pseudonym that links with police records; deleted cases "
        "are withdrawn."
    ),
)
