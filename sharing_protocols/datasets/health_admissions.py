"""Hospital admissions counts by outward code, ICD-10 block and quarter (s17A health return)."""

from __future__ import annotations

from sharing_protocols.dataset_spec import DatasetSpec

DATASET = "health-admissions"

SPEC = DatasetSpec(
    name=DATASET,
    title="Hospital admissions by outward code and ICD-10 block (s17A health return)",
    schema_version=1,
    attributes=("measure", "count", "icd10_block", "quarter"),
    kind="aggregate",
    description=(
        "Quarterly counts of hospital admissions for assault and alcohol-related conditions by postcode outward "
        "code, as the NHS shares them with CSPs under the s17A prescribed information regulations."
    ),
)
