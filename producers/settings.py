"""Settings of a partner's producer: where its linkage keys, code lists and vocabulary live."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict


class ProducerSettings(BaseModel):
    """Files the partner holds (None: not configured). Keys may also come from HUB_LINKAGE_KEY_<DOMAIN> variables."""

    model_config = ConfigDict(frozen=True)

    keys_file: Path | None = None
    code_lists_dir: Path | None = None
    vocabulary_file: Path | None = None
