"""Where the scorecard indicators are: the packaged examples, or a deployment's own directory (HUB_INDICATORS_DIR)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

import deploy
from warehouse.indicator_registry import Indicator, load_directory


class IndicatorSettings(BaseSettings):
    """The directory of indicator YAML documents (HUB_INDICATORS_DIR)."""

    model_config = SettingsConfigDict(env_prefix="HUB_INDICATORS_", frozen=True)

    dir: Path | None = None  # None: the example indicators packaged with the hub


@lru_cache
def get_indicator_settings() -> IndicatorSettings:
    return IndicatorSettings()


def packaged_indicators_dir() -> Path:
    """The example indicators shipped with the hub: the deploy/indicators directory."""
    return Path(deploy.__file__).resolve().parent / "indicators"


def configured_indicators_dir() -> Path:
    """HUB_INDICATORS_DIR, or the packaged examples when that is unset."""
    return get_indicator_settings().dir or packaged_indicators_dir()


def configured_indicators() -> list[Indicator]:
    """The indicators of the configured directory (IndicatorError naming each file and field that is wrong)."""
    return load_directory(configured_indicators_dir())
