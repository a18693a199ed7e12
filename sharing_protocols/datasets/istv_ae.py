"""ISTV A&E assault attendances (ISB 1594): the dataset as consumers see it."""

from __future__ import annotations

from sharing_protocols.dataset_spec import DatasetSpec

DATASET = "istv-ae"

SPEC = DatasetSpec(
    name=DATASET,
    title="ISTV emergency department assault attendances (ISB 1594)",
    schema_version=1,
    attributes=(
        "site_code",
        "reporting_period",
        "assault_method",
        "assault_location_type",
        "method_description",
        "location_description",
        "age_band",
        "sex",
        "arrival_hour",
        "assault_hour",
    ),
    free_text=("method_description", "location_description"),
    time_of_day=("arrival_hour", "assault_hour"),
    description=(
        "Information Sharing to Tackle Violence: assault attendances at an emergency department, with where and how "
        "the assault happened. No patient identifiers leave the trust; dates of birth become age bands."
    ),
)
