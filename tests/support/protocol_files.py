"""Protocol files for a test module's hub: its own documents written beside the packaged protocols."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from deploy.protocol_files import packaged_protocols_dir


def with_packaged(tmp_path_factory: pytest.TempPathFactory, documents: Mapping[str, str]) -> list[Path]:
    """The packaged protocols and a new directory holding `documents` (file name -> YAML text)."""
    directory = tmp_path_factory.mktemp("protocols")
    for name, text in documents.items():
        (directory / name).write_text(text, encoding="utf-8")
    return [packaged_protocols_dir(), directory]
