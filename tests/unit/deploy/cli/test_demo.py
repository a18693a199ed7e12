"""`hub demo`: a service that will not start is named, with exit 1 and no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from deploy import local
from deploy.cli import app, demo


def test_a_service_that_will_not_start_is_named_without_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(timeout: float) -> None:
        raise local.LocalInfraError("kafka: the broker did not open 19092 within 60 s")

    monkeypatch.setattr(demo, "_run_demo", refuse)
    result = CliRunner().invoke(app, ["demo"])
    assert (result.exit_code, "did not open 19092" in result.output, "Traceback" in result.output) == (1, True, False)


def test_the_demo_users_keys_are_shown_only_on_a_terminal(tmp_path: Path) -> None:
    keys = {name: f"key-{index}-{'x' * 40}" for index, name in enumerate(demo.DEMO_USERS)}
    keys_file = tmp_path / "demo-keys.env"
    keys_file.write_text("".join(f"{name}={key}\n" for name, key in keys.items()))
    on_terminal = demo.demo_users_text(keys_file, show_keys=True)
    redirected = demo.demo_users_text(keys_file, show_keys=False)
    assert [key in on_terminal for key in keys.values()] == [True, True, True]
    assert [key in redirected for key in keys.values()] == [False, False, False]
    for org, role in (demo.DEMO_ANALYST, demo.DEMO_IG_LEAD, ("sussex-police", "partner")):
        assert f"{role} of {org}" in on_terminal and f"{role} of {org}" in redirected
    assert str(keys_file) in redirected
