"""Probation and Integrated Offender Management cohorts: the dataset as consumers see it."""

from __future__ import annotations

from sharing_protocols.dataset_spec import DatasetSpec

DATASET = "probation-iom"

SPEC = DatasetSpec(
    name=DATASET,
    title="Probation and Integrated Offender Management cohorts",
    schema_version=1,
    attributes=(
        "offender_pseudonym",
        "offender_age_band",
        "reoffended",
        "predicted_reoffending_rate",
        "offences_count",
    ),
    linkage={"offender_pseudonym": "person"},
    description=(
        "Offenders managed by probation per cohort period (category iom-fixed, iom-flex or general), located at "
        "their home postcode: whether they were proven to reoffend in the period, how many proven reoffences, "
        "and their predicted reoffending rate (0-1, OGRS-style), with an offender pseudonym."
    ),
)
