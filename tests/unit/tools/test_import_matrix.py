"""tools/import_matrix.py: the package import matrix and the direction check `make test` runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.import_matrix import main, matrix

ROOT = Path(__file__).resolve().parents[3]


def _tree(root: Path, modules: dict[str, str]) -> Path:
    for name, source in modules.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return root


def test_the_hub_itself_has_no_import_against_the_direction() -> None:
    assert matrix(ROOT)[1] == []


def test_a_package_importing_deploy_is_named(tmp_path: Path) -> None:
    modules = {"warehouse/db.py": "from deploy.settings import get\n", "deploy/cli.py": "import warehouse\n"}
    tree = _tree(tmp_path, modules)
    assert matrix(tree)[1] == ["warehouse/db.py: warehouse imports deploy"]


def test_the_contract_importing_any_project_package_is_named(tmp_path: Path) -> None:
    tree = _tree(tmp_path, {"sharing_protocols/envelope.py": "import geography.geocoder\n"})
    assert matrix(tree)[1] == ["sharing_protocols/envelope.py: sharing_protocols imports geography"]


def test_an_upward_import_between_layers_is_named(tmp_path: Path) -> None:
    tree = _tree(tmp_path, {"warehouse/queries/x.py": "from api.errors import NotFound\n"})
    assert matrix(tree)[1] == ["warehouse/queries/x.py: warehouse imports api"]


def test_cells_count_import_statements(tmp_path: Path) -> None:
    tree = _tree(
        tmp_path,
        {"api/a.py": "from warehouse.x import y\nimport warehouse.z\n", "api/b.py": "from . import a\nimport api\n"},
    )
    counts, violations = matrix(tree)
    assert (counts["api", "warehouse"], counts["api", "api"], violations) == (2, 0, [])


@pytest.mark.parametrize(("source", "code"), [("import sharing_protocols\n", 0), ("import deploy\n", 1)])
def test_the_exit_code_says_whether_an_import_runs_against_the_direction(
    tmp_path: Path, source: str, code: int
) -> None:
    tree = _tree(tmp_path, {"producers/publish.py": source})
    assert main(["--root", str(tree)]) == code
