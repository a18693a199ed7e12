"""`hub protocols retention`: the table of how long each field is kept, from the packaged protocols."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from deploy.cli import app

SHORT = "repeat-victimisation-counts@1#police-repeat-victim-counts"
LONG = "police-records-to-csp@1#ward-day-records"


@pytest.fixture(autouse=True)
def _packaged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUB_PROTOCOLS_PATHS", raising=False)


def _rows(*args: str) -> tuple[int, dict[tuple[str, str], list[str]], str]:
    result = CliRunner().invoke(app, ["protocols", "retention", *args])
    rows = {}
    for line in result.stdout.splitlines()[1:]:
        dataset, field, *rest = line.split()
        rows[(dataset, field)] = rest
    return result.exit_code, rows, result.output


def test_the_table_shows_each_field_with_its_longest_retention_and_clause() -> None:
    code, rows, output = _rows("--today", "2026-12-02")
    assert code == 0, output
    # From the YAML: repeat-victimisation-counts keeps 13 months, police-records-to-csp 24.
    assert rows[("police-records", "victim_pseudonym")] == ["13", "months", "2028-01-02", SHORT]
    assert rows[("police-records", "hour")] == ["13", "months", "2028-01-02", SHORT]
    assert rows[("police-records", "offence_code")] == ["24", "months", "2028-12-02", LONG]
    assert ("police-records", "mo_summary") not in rows  # free text: no clause releases it
    assert {dataset for dataset, _ in rows} > {"police-records", "council-asb"}


def test_dataset_limits_the_table() -> None:
    code, rows, output = _rows("--today", "2026-12-02", "--dataset", "council-asb")
    assert code == 0, output
    assert rows and {dataset for dataset, _ in rows} == {"council-asb"}


def test_a_day_when_nothing_is_in_force_or_a_bad_date_is_said_plainly() -> None:
    code, rows, output = _rows("--today", "2020-01-01")
    assert code == 1 and "no protocol in force on 2020-01-01" in output and not rows
    code, _, output = _rows("--today", "not-a-date")
    assert code == 1 and "--today: 'not-a-date' is not a date" in output and "Traceback" not in output
