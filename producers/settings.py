"""Settings of a partner's producer: where its linkage keys, code lists and vocabulary live, and the largest
message its broker accepts."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

# Kafka's default message.max.bytes (broker and topic): the largest record batch a broker accepts.
MAX_MESSAGE_BYTES = 1_048_588


class ProducerSettings(BaseModel):
    """Files the partner holds (None: not configured). Keys may also come from HUB_LINKAGE_KEY_<DOMAIN> variables.

    `max_message_bytes` must match the broker's message.max.bytes: a larger event is rejected before it is sent.
    """

    model_config = ConfigDict(frozen=True)

    keys_file: Path | None = None
    code_lists_dir: Path | None = None
    vocabulary_file: Path | None = None
    max_message_bytes: int = Field(default=MAX_MESSAGE_BYTES, gt=0)
