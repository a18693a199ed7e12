"""Police recorded crime and incidents (force records): the dataset as consumers see it."""

from __future__ import annotations

from sharing_protocols.dataset_spec import DatasetSpec

DATASET = "police-records"

SPEC = DatasetSpec(
    name=DATASET,
    title="Police recorded crime and incidents (force records system export)",
    schema_version=1,
    attributes=(
        "record_type",
        "offence_code",
        "offence_group",
        "offence_subgroup",
        "domestic_abuse",
        "hate_crime",
        "hate_strand",
        "alcohol_related",
        "location_description",
        "victim_pseudonym",
        "victim_age_band",
        "outcome",
        "crime_status",
        "mo_summary",
        "hour",
    ),
    linkage={"victim_pseudonym": "person"},
    free_text=("location_description", "mo_summary"),
    time_of_day=("hour",),
    description=(
        "Crimes (by Home Office offence code, published under their police.uk category) and incidents "
        "(incident-<type>), with domestic abuse, hate and alcohol flags, a victim pseudonym and age band; "
        "cancelled crimes are withdrawn."
    ),
)
