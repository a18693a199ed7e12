"""Settings of the web application."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class WebSettings(BaseModel):
    """Where the installed front-end packages are (`assets_dir`: the folder holding `node_modules/` and the built
    style sheet), how long a sign-in lasts (`session_hours`) and may sit idle (`idle_minutes`), an optional basemap
    tile URL (`basemap_url`, e.g. `https://tiles.example/{z}/{x}/{y}.png`; none: boundaries only), and how many
    sign-in attempts one address may make a minute (`sign_ins_per_minute`)."""

    model_config = ConfigDict(frozen=True)

    assets_dir: Path
    session_hours: float = Field(default=8.0, gt=0, le=24)
    idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    basemap_url: str | None = None
    sign_ins_per_minute: int = Field(default=10, ge=1)
