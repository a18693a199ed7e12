"""The dataset catalogue: every dataset the hub carries, one module per dataset in sharing_protocols.datasets."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping

from sharing_protocols import datasets
from sharing_protocols.dataset_spec import DatasetSpec

__all__ = ["CATALOGUE", "STANDARD_FIELDS", "DatasetSpec", "UnknownDatasetError", "allowed_fields", "get_dataset"]


def _discover() -> dict[str, DatasetSpec]:
    """Each module of sharing_protocols.datasets declares one dataset as `SPEC`."""
    found: dict[str, DatasetSpec] = {}
    for info in sorted(pkgutil.iter_modules(datasets.__path__), key=lambda i: i.name):
        spec = getattr(importlib.import_module(f"{datasets.__name__}.{info.name}"), "SPEC", None)
        if isinstance(spec, DatasetSpec):
            if spec.name in found:
                raise RuntimeError(f"dataset {spec.name!r} is declared twice")
            found[spec.name] = spec
    return found


CATALOGUE: Mapping[str, DatasetSpec] = _discover()

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
