"""MARAC case lists: the dataset as consumers see it."""

from __future__ import annotations

from sharing_protocols.dataset_spec import DatasetSpec

DATASET = "marac-cases"

SPEC = DatasetSpec(
    name=DATASET,
    title="MARAC case lists",
    schema_version=1,
    attributes=(
        "marac_area",
        "referring_agency",
        "days_referral_to_review",
        "victim_pseudonym",
        "victim_age_band",
        "perpetrator_pseudonym",
        "perpetrator_age_band",
        "perpetrator_count",
        "risk_level",
        "information_only",
        "repeat_recorded",
    ),
    linkage={"victim_pseudonym": "person", "perpetrator_pseudonym": "person"},
    description=(
        "Cases heard at MARAC meetings (category referral or information-only) by MARAC area, with victim and "
        "(main) perpetrator pseudonyms so that repeat cases within 12 months can be counted (NI 32), and the "
        "repeat flag as the MARAC recorded it. Located at the victim's postcode."
    ),
)
