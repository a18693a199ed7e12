"""Integration tests fail, never skip, when the broker or database cannot be had."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def test_integration_tests_fail_loudly_without_a_database_or_broker() -> None:
    env = {
        **os.environ,
        "HUB_DATABASE_URL": "postgresql+psycopg://hub@127.0.0.1:1/hub",
        "HUB_KAFKA_BOOTSTRAP": "127.0.0.1:1",
        "HUB_KAFKA_USERNAME": "hub-admin",
        "HUB_KAFKA_PASSWORD": "unused",
        "DOCKER_HOST": "unix:///nonexistent.sock",
    }
    result = _broken_input_tests(env)
    summary = result.stdout.strip().splitlines()[-1]
    assert result.returncode != 0, result.stdout
    assert "skipped" not in summary
    assert "error" in summary
    assert "could not create database" in result.stdout


def _broken_input_tests(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/integration/test_broken_input.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_integration_tests_fail_loudly_on_an_external_broker_without_a_credential() -> None:
    env = {
        name: value for name, value in os.environ.items() if name not in ("HUB_KAFKA_USERNAME", "HUB_KAFKA_PASSWORD")
    }
    env |= {"HUB_KAFKA_BOOTSTRAP": "127.0.0.1:1", "DOCKER_HOST": "unix:///nonexistent.sock"}
    result = _broken_input_tests(env)
    said = "set HUB_KAFKA_USERNAME and HUB_KAFKA_PASSWORD" in result.stdout
    assert (result.returncode != 0, "skipped" in result.stdout.splitlines()[-1], said) == (True, False, True)
