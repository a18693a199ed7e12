"""`hub protocols check` names the file, the field and the problem for each broken document."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from deploy.cli import app
from deploy.protocol_files import packaged_protocols_dir

TODAY = "2027-01-15"  # inside the packaged protocol's review period, whatever the calendar says
GOOD = (packaged_protocols_dir() / "police-to-csp-analysts.yaml").read_text()


def _check(tmp_path: Path, name: str, text: str) -> tuple[int, str]:
    path = tmp_path / name
    path.write_text(text)
    result = CliRunner().invoke(app, ["protocols", "check", str(path), "--today", TODAY])
    return result.exit_code, result.output


def test_a_good_document_passes(tmp_path: Path) -> None:
    code, output = _check(tmp_path, "good.yaml", GOOD)
    assert code == 0 and output.strip().endswith("good.yaml: ok")


GATEWAYS = """legal_gateways:
  - ref: cda-1998-s115
  - ref: cda-1998-s17a
  - ref: uk-gdpr-art6-1e
"""
BROKEN = {  # file name: (document, field path, problem)
    "unknown-dataset.yaml": (
        GOOD.replace("\ndatasets: [police-uk-street]", "\ndatasets: [no-such-feed]", 1),
        "datasets[0]",
        "is not a dataset in the hub's catalogue",
    ),
    "unknown-field.yaml": (
        GOOD.replace("last_outcome_category]", "victim_name]"),
        "clauses[0].fields[5]",
        "is not a field of dataset police-uk-street",
    ),
    "no-gateway.yaml": (
        GOOD.replace(GATEWAYS, "legal_gateways: []\n"),
        "legal_gateways",
        "at least one legal gateway is required",
    ),
    "review-passed.yaml": (
        GOOD.replace("review_due: 2027-09-30", "review_due: 2020-01-01"),
        "review_due",
        "review was due on 2020-01-01",
    ),
}


def test_broken_documents_are_rejected_naming_file_field_and_problem(tmp_path: Path) -> None:
    assert all(document != GOOD for document, _, _ in BROKEN.values())
    for name, (document, field, problem) in BROKEN.items():
        code, output = _check(tmp_path, name, document)
        assert code == 1, (name, output)
        assert f"{tmp_path / name}: {field}: {problem}" in output, (name, output)


def test_a_perturbation_table_is_checked_as_a_table(tmp_path: Path) -> None:
    table = (packaged_protocols_dir().parent / "perturbation_tables" / "hub-cell-key-1.yaml").read_text()
    assert _check(tmp_path, "table.yaml", table) == (0, f"{tmp_path / 'table.yaml'}: ok\n")
    code, output = _check(tmp_path, "bad.yaml", table.replace("{p: 4, probability: 0.2}", "{p: 6, probability: 0.2}"))
    assert code == 1
    assert f"{tmp_path / 'bad.yaml'}: rows[1].perturbations[1].p: is beyond the maximum perturbation 5" in output
