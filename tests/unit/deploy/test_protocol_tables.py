"""A protocol whose cell_key clause names a perturbation table the hub does not have is refused when loaded."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from deploy.protocol_files import load_register, packaged_protocols_dir
from sharing_protocols.protocol import ProtocolError

PACKAGED = packaged_protocols_dir() / "repeat-victimisation-counts.yaml"


def _with_table(tmp_path: Path, table: str) -> Path:
    doc = yaml.safe_load(PACKAGED.read_text(encoding="utf-8"))
    index = next(i for i, clause in enumerate(doc["clauses"]) if clause.get("disclosure"))
    doc["clauses"][index]["disclosure"] = {"method": "cell_key", "table": table}
    path = tmp_path / "cell-key.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def test_a_clause_naming_a_packaged_table_loads(tmp_path: Path) -> None:
    register = load_register([_with_table(tmp_path, "hub-cell-key@1")])
    methods = [c.disclosure.method for p in register.protocols for c in p.clauses if c.disclosure is not None]
    assert "cell_key" in methods


def test_a_clause_naming_an_unknown_table_is_refused_naming_file_and_field(tmp_path: Path) -> None:
    path = _with_table(tmp_path, "no-such-table@3")
    with pytest.raises(ProtocolError) as refused:
        load_register([path])
    [problem] = refused.value.problems
    assert problem.source == str(path)
    assert problem.path.endswith(".disclosure.table") and problem.path.startswith("clauses[")
    assert "no-such-table@3" in problem.message


def test_hub_protocols_check_names_the_unknown_table(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from deploy.cli import app

    path = _with_table(tmp_path, "no-such-table@3")
    done = CliRunner().invoke(app, ["protocols", "check", str(path), "--today", "2027-01-15"])
    assert done.exit_code == 1
    assert f"{path}: clauses[" in done.output and ".disclosure.table: " in done.output
    assert "no-such-table@3" in done.output
