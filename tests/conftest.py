"""Fixtures shared by every test: the shared open data."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.open_data import SHARED_DATA


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the checkout (real open data; read-only)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"the shared open data is missing: expected {SHARED_DATA}")
    return SHARED_DATA
