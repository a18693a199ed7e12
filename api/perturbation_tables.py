"""The perturbation tables the API perturbs counts with: the packaged documents, by id@version."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from sharing_protocols.perturbation import PerturbationTable, parse_table


@cache
def perturbation_table(ref: str) -> PerturbationTable:
    """The packaged table `ref` (id@version), from sharing_protocols/perturbation_tables/<id>-<version>.yaml;
    LookupError when it is not packaged (a clause naming it cannot be answered)."""
    table_id, _, version = ref.partition("@")
    resource = files("sharing_protocols").joinpath("perturbation_tables", f"{table_id}-{version}.yaml")
    if not resource.is_file():
        raise LookupError(f"perturbation table {ref} is not packaged with the hub")
    table = parse_table(resource.read_text(encoding="utf-8"), str(resource))
    if table.label != ref:
        raise LookupError(f"{resource} holds {table.label}, not {ref}")
    return table
