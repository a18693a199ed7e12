"""Settings of the query API (HUB_API_*)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    """Where the API listens."""

    model_config = SettingsConfigDict(env_prefix="HUB_API_", frozen=True)

    host: str = "127.0.0.1"
    port: int = 8000
    title: str = "CSP information-sharing hub"


@lru_cache
def get_api_settings() -> ApiSettings:
    return ApiSettings()
