"""The perturbation tables the API perturbs counts with: the packaged documents, by id@version.

`packaged_tables` reads them all once; the app's lifespan keeps the result on `app.state` (`api.factory`), and the
protection functions are handed it (`api.protection`). `load_table` reads one, for checks outside the app.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.resources import files
from importlib.resources.abc import Traversable

from sharing_protocols.perturbation import PerturbationTable, parse_table


def _resource(ref: str) -> Traversable:
    table_id, _, version = ref.partition("@")
    return files("sharing_protocols").joinpath("perturbation_tables", f"{table_id}-{version}.yaml")


def _parsed(resource: Traversable) -> PerturbationTable:
    return parse_table(resource.read_text(encoding="utf-8"), str(resource))


def load_table(ref: str) -> PerturbationTable:
    """The packaged table `ref` (id@version), from sharing_protocols/perturbation_tables/<id>-<version>.yaml;
    LookupError when it is not packaged (a clause naming it cannot be answered)."""
    resource = _resource(ref)
    if not resource.is_file():
        raise LookupError(f"perturbation table {ref} is not packaged with the hub")
    table = _parsed(resource)
    if table.label != ref:
        raise LookupError(f"{resource} holds {table.label}, not {ref}")
    return table


class PerturbationTables:
    """Perturbation tables by id@version; immutable once built."""

    def __init__(self, tables: Iterable[PerturbationTable]) -> None:
        self._tables = {table.label: table for table in tables}

    def __getitem__(self, ref: str) -> PerturbationTable:
        """The table `ref`; LookupError when there is none (a clause naming it cannot be answered)."""
        try:
            return self._tables[ref]
        except KeyError:
            raise LookupError(f"perturbation table {ref} is not packaged with the hub") from None

    def __len__(self) -> int:
        return len(self._tables)


def packaged_tables() -> PerturbationTables:
    """Every table packaged in sharing_protocols/perturbation_tables (each file must hold the id@version its
    name says: `load_table`)."""
    directory = files("sharing_protocols").joinpath("perturbation_tables")
    names = sorted(entry.name for entry in directory.iterdir() if entry.name.endswith(".yaml"))
    refs = [f"{stem.rpartition('-')[0]}@{stem.rpartition('-')[2]}" for stem in (n.removesuffix(".yaml") for n in names)]
    return PerturbationTables(load_table(ref) for ref in refs)
