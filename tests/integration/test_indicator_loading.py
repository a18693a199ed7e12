"""The packaged indicators load into the warehouse registry and read back; `hub indicators load|list`."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from deploy.cli.indicators import indicators as indicators_cli
from deploy.indicator_files import packaged_indicators_dir
from tests.support.hub import HubEnv
from warehouse.reference.indicator_registry import load_directory
from warehouse.reference.indicator_store import load_indicators, read_indicators
from warehouse.schema.db import session_scope

pytestmark = pytest.mark.integration


def _documents() -> dict[str, dict[str, Any]]:
    """The packaged YAML documents, read with plain PyYAML (not through the registry's parser)."""
    documents = (yaml.safe_load(path.read_text()) for path in sorted(packaged_indicators_dir().glob("*.yaml")))
    return {document["id"]: document for document in documents}


def _expected_targets(documents: dict[str, dict[str, Any]]) -> set[tuple[str, str | None, str, Decimal]]:
    expected: set[tuple[str, str | None, str, Decimal]] = set()
    for id_, document in documents.items():
        for year, value in document.get("targets", {}).items():
            expected.add((id_, None, year, Decimal(str(value))))
        for area, years in document.get("area_targets", {}).items():
            for year, value in years.items():
                expected.add((id_, area, year, Decimal(str(value))))
    return expected


def _stored_targets(hub_env: HubEnv) -> set[tuple[str, str | None, str, Decimal]]:
    with session_scope(hub_env.engine) as session:
        rows = session.execute(text("SELECT indicator_id, area_code, year, value FROM indicator_target")).all()
    return {(r[0], r[1], r[2], r[3]) for r in rows}


def test_the_packaged_indicators_load_and_read_back(hub_env: HubEnv) -> None:
    documents = _documents()
    with session_scope(hub_env.engine) as session:
        assert load_indicators(session, load_directory(packaged_indicators_dir())) == len(documents) == 4

    assert _stored_targets(hub_env) == _expected_targets(documents)
    with session_scope(hub_env.engine) as session:
        rows = session.execute(
            text(
                "SELECT id, owner, dataset, measure, direction, level, data_lag_months, provisional_months, "
                "tolerance_pct, baseline_year, baseline_value, document->>'title' FROM indicator ORDER BY id"
            )
        ).all()
    assert [tuple(row) for row in rows] == [
        (
            id_,
            d["owner"],
            d["dataset"],
            d["measure"],
            d["direction"],
            d.get("level", "csp"),
            d["data_lag_months"],
            d.get("provisional_months", 0),
            Decimal(str(d.get("tolerance_pct", 5))),
            d["baseline"]["year"],
            None if d["baseline"].get("value") is None else Decimal(str(d["baseline"]["value"])),
            d["title"],
        )
        for id_, d in sorted(documents.items())
    ]
    # Eastbourne's own 2025/26 violence target, and the all-areas one that Lewes falls back to.
    with session_scope(hub_env.engine) as session:
        registered = {entry.indicator.id: entry.indicator for entry in read_indicators(session)}
    violence = documents["violence-rate"]
    assert registered["violence-rate"].target_for("E22000295", "2025/26") == (
        violence["area_targets"]["E22000295"]["2025/26"],
        "E22000295",
    )
    assert registered["violence-rate"].target_for("E22000298", "2025/26") == (violence["targets"]["2025/26"], None)
    assert registered == {i.id: i for i in load_directory(packaged_indicators_dir())}


def test_loading_replaces_the_registry(hub_env: HubEnv) -> None:
    packaged = load_directory(packaged_indicators_dir())
    with session_scope(hub_env.engine) as session:
        load_indicators(session, packaged)
    with session_scope(hub_env.engine) as session:
        load_indicators(session, [i for i in packaged if i.id == "asb-incidents"])
    assert _stored_targets(hub_env) == {t for t in _expected_targets(_documents()) if t[0] == "asb-incidents"}
    with session_scope(hub_env.engine) as session:
        assert session.execute(text("SELECT array_agg(id) FROM indicator")).scalar_one() == ["asb-incidents"]


def test_one_all_areas_target_per_indicator_and_year(hub_env: HubEnv) -> None:
    with session_scope(hub_env.engine) as session:
        load_indicators(session, load_directory(packaged_indicators_dir()))
    with pytest.raises(IntegrityError), session_scope(hub_env.engine) as session:  # NULL area codes are not distinct
        session.execute(
            text("INSERT INTO indicator_target (indicator_id, area_code, year, value) VALUES (:i, NULL, :y, 1)"),
            {"i": "violence-rate", "y": "2025/26"},
        )


def test_hub_indicators_load_and_list(hub_env: HubEnv, tmp_path: Path) -> None:
    runner = CliRunner(env=hub_env.env)  # the commands read HUB_* settings, as `hub indicators` does
    loaded = runner.invoke(indicators_cli, ["load", str(packaged_indicators_dir())])
    assert loaded.exit_code == 0, loaded.output
    assert loaded.output.startswith("4 indicators loaded from ")
    listed = runner.invoke(indicators_cli, ["list"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert [line.split()[0] for line in lines] == sorted(_documents())
    violence = next(line for line in lines if line.startswith("violence-rate"))
    assert "targets 2024/25, 2025/26, 2026/27" in violence and "lag 2m" in violence

    bad = tmp_path / "bad.yaml"
    bad.write_text((packaged_indicators_dir() / "violence-rate.yaml").read_text().replace("per: 1000", "per: 7"))
    refused = runner.invoke(indicators_cli, ["load", str(tmp_path)])
    assert refused.exit_code == 1
    assert f"{bad}: denominator.per: must be 1000, 10000 or 100000" in refused.output
    assert len(_stored_targets(hub_env)) == len(_expected_targets(_documents()))  # the registry is unchanged
