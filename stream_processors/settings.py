"""Settings of the warehouse loader (HUB_WORKER_*)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class WorkerSettings(BaseSettings):
    """How the loader batches and retries (the vintages it geocodes to are GeographySettings)."""

    model_config = SettingsConfigDict(env_prefix="HUB_WORKER_", frozen=True)

    batch_size: int = 5000
    batch_seconds: float = 0.5
    retry_max_seconds: float = 30.0
    log_level: str = "info"
