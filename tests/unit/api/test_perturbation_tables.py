"""The packaged perturbation tables, read once into a lookup by id@version that the protection functions take."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.perturbation_tables import PerturbationTables, load_table, packaged_tables
from api.protection import perturbation_variance, protect_count
from sharing_protocols.cell_key_release import KeyedCount
from sharing_protocols.disclosure import DEFAULT_RULE, Rule
from sharing_protocols.perturbation import parse_table, perturb

TABLE_DIR = Path(__file__).parents[3] / "sharing_protocols" / "perturbation_tables"
CELL_KEY_RULE = Rule(8, 5, "protocol", ("p@1#c",), "cell_key", "hub-cell-key@1")


def test_every_packaged_file_is_in_the_lookup_under_its_label() -> None:
    files = sorted(TABLE_DIR.glob("*.yaml"))
    tables = packaged_tables()
    assert files and len(tables) == len(files)
    for path in files:
        table = parse_table(path.read_text(encoding="utf-8"), str(path))
        assert tables[table.label] == table == load_table(table.label)


def test_an_unknown_table_is_a_lookup_error_naming_it() -> None:
    with pytest.raises(LookupError, match="no-such@2"):
        packaged_tables()["no-such@2"]
    with pytest.raises(LookupError, match="no-such@2"):
        load_table("no-such@2")


def test_the_protection_functions_use_the_table_they_are_given() -> None:
    table = load_table("hub-cell-key@1")
    tables = PerturbationTables([table])
    assert perturbation_variance(CELL_KEY_RULE, tables) == table.variance == 2
    assert perturbation_variance(DEFAULT_RULE, PerturbationTables([])) == 0.0
    assert protect_count(KeyedCount(30, 12_345), CELL_KEY_RULE, tables) == perturb(30, 12_345, table)
    assert protect_count(KeyedCount(30, 12_345), DEFAULT_RULE, PerturbationTables([])) == 30
    with pytest.raises(LookupError):
        protect_count(KeyedCount(30, 12_345), CELL_KEY_RULE, PerturbationTables([]))
