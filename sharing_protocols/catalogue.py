"""The dataset catalogue: every dataset the hub carries, with its row schema and how rows become events."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pydantic import BaseModel

from sharing_protocols.datasets import police_uk_street
from sharing_protocols.envelope import EventEnvelope


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset: its name, schema version, the pydantic model of a source row, and the row mapping."""

    name: str
    title: str
    schema_version: int
    default_partner: str
    row_model: type[BaseModel]
    columns: tuple[str, ...]
    to_envelope: Callable[[BaseModel, str, str], EventEnvelope]
    source_key: Callable[[BaseModel], str | None]
    attributes: tuple[str, ...] = ()  # the names of the event attributes that to_envelope sets


CATALOGUE: Mapping[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            name=police_uk_street.DATASET,
            title="data.police.uk street-level crime and anti-social behaviour",
            schema_version=police_uk_street.SCHEMA_VERSION,
            default_partner="police-uk",
            row_model=police_uk_street.PoliceUkStreetRow,
            columns=police_uk_street.COLUMNS,
            to_envelope=police_uk_street.to_envelope,  # type: ignore[arg-type]
            source_key=police_uk_street.source_key,  # type: ignore[arg-type]
            attributes=(
                "crime_id",
                "reported_by",
                "falls_within",
                "location_description",
                "lsoa_code",
                "last_outcome_category",
            ),
        ),
    )
}


# The fields every event has, whatever its dataset; a protocol may release these and the dataset's attributes.
STANDARD_FIELDS: tuple[str, ...] = ("category", "period", "location")


def allowed_fields(spec: DatasetSpec) -> tuple[str, ...]:
    """The field names a protocol may release for this dataset: the standard fields, then its attributes."""
    return STANDARD_FIELDS + spec.attributes


class UnknownDatasetError(KeyError):
    """Raised for a dataset name that the catalogue does not hold."""


def get_dataset(name: str) -> DatasetSpec:
    try:
        return CATALOGUE[name]
    except KeyError:
        known = ", ".join(sorted(CATALOGUE))
        raise UnknownDatasetError(f"unknown dataset {name!r}; known datasets: {known}") from None
