"""Where the scorecard indicators are: the packaged examples, or a deployment's own directory (HUB_INDICATORS_DIR)."""

from __future__ import annotations

from pathlib import Path

import deploy
from deploy.settings import indicators_dir
from warehouse.reference.indicator_registry import Indicator, load_directory


def packaged_indicators_dir() -> Path:
    """The example indicators shipped with the hub: the deploy/indicators directory."""
    return Path(deploy.__file__).resolve().parent / "indicators"


def configured_indicators_dir() -> Path:
    """HUB_INDICATORS_DIR, or the packaged examples when that is unset."""
    return indicators_dir() or packaged_indicators_dir()


def configured_indicators() -> list[Indicator]:
    """The indicators of the configured directory (IndicatorError naming each file and field that is wrong)."""
    return load_directory(configured_indicators_dir())
