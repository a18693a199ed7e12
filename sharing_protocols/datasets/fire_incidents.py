"""Fire and rescue incidents (IRS-style): the dataset as consumers see it."""

from __future__ import annotations

from sharing_protocols.dataset_spec import DatasetSpec

DATASET = "fire-incidents"

SPEC = DatasetSpec(
    name=DATASET,
    title="Fire and rescue incidents (IRS-style)",
    schema_version=1,
    attributes=(
        "incident_group",
        "incident_type",
        "cause_motive",
        "property_type",
        "station_ground",
        "casualties",
        "call_hour",
    ),
    time_of_day=("call_hour",),
    description=(
        "Incidents attended by a fire and rescue service: deliberate and accidental fires, false alarms and special "
        "services, by grid reference. Deliberate fires and malicious false alarms inform CSP arson reduction work."
    ),
)
