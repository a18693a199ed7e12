"""Shared test paths."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (ROOT.parent / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the checkout (real open data; read-only)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"the shared open data is missing: expected {SHARED_DATA}")
    return SHARED_DATA
