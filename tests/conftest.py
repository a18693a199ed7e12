"""Fixtures shared by every test: the shared open data, and the real broker and database (for the integration and
browser tests)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.hub import Services, services_of_own, start_services
from tests.support.open_data import SHARED_DATA

# The fault suite stops, kills and freezes its broker and database: it runs as a session of its own, on services of
# its own (`make faults`, after the main session in `make test`), never beside the other tests.
collect_ignore = [] if os.environ.get("HUB_TEST_FAULTS") else ["faults"]


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist each process after the first gets embedded services of its own (`services_of_own`). Only
    xdist's own processes (they have `workerinput`): a pytest a test starts inherits PYTEST_XDIST_WORKER and the
    settings already moved, and must not move them again."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        os.environ.update(services_of_own(str(workerinput["workerid"])))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the checkout (real open data; read-only)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"the shared open data is missing: expected {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def services() -> Iterator[Services]:
    """Start (or find) the broker and the database; fail loudly when neither can be had."""
    yield from start_services()
