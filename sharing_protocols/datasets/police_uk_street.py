"""data.police.uk street-level crime and ASB, and the police.uk categories its events carry."""

from __future__ import annotations

from sharing_protocols.dataset_spec import DatasetSpec

DATASET = "police-uk-street"

# The police.uk categories (display name -> slug), as published by data.police.uk.
CATEGORIES: dict[str, str] = {
    "Anti-social behaviour": "anti-social-behaviour",
    "Bicycle theft": "bicycle-theft",
    "Burglary": "burglary",
    "Criminal damage and arson": "criminal-damage-arson",
    "Drugs": "drugs",
    "Other theft": "other-theft",
    "Possession of weapons": "possession-of-weapons",
    "Public order": "public-order",
    "Robbery": "robbery",
    "Shoplifting": "shoplifting",
    "Theft from the person": "theft-from-the-person",
    "Vehicle crime": "vehicle-crime",
    "Violence and sexual offences": "violent-crime",
    "Other crime": "other-crime",
}

SPEC = DatasetSpec(
    name=DATASET,
    title="data.police.uk street-level crime and anti-social behaviour",
    schema_version=1,
    attributes=(
        "crime_id",
        "reported_by",
        "falls_within",
        "location_description",
        "lsoa_code",
        "last_outcome_category",
    ),
    free_text=("location_description",),
    description="The monthly street-level files of data.police.uk: already anonymised, points snapped to map points.",
)
