"""`hub demo`: a service that will not start is named, with exit 1 and no traceback."""

from __future__ import annotations

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
