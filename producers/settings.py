"""Settings of a partner's producer (HUB_PRODUCER_*): where its linkage keys, code lists and vocabulary live."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class ProducerSettings(BaseSettings):
    """Files the partner holds. Keys may instead come from HUB_LINKAGE_KEY_<DOMAIN> variables."""

    model_config = SettingsConfigDict(env_prefix="HUB_PRODUCER_", frozen=True)

    keys_file: Path | None = None
    code_lists_dir: Path | None = None
    vocabulary_file: Path | None = None
