"""Protocol files for a test module's hub: its own documents written beside the packaged protocols."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from deploy.protocol_files import packaged_protocols_dir


def with_packaged(tmp_path_factory: pytest.TempPathFactory, documents: Mapping[str, str]) -> list[Path]:
    """The packaged protocols and a new directory holding `documents` (file name -> YAML text)."""
    directory = tmp_path_factory.mktemp("protocols")
    for name, text in documents.items():
        (directory / name).write_text(text, encoding="utf-8")
    return [packaged_protocols_dir(), directory]


def protocol_document(protocol_id: str, title: str, datasets: Sequence[str], body: str) -> str:
    """A test protocol's YAML: active, valid 2019 to 2030, a test DPIA, CDA 1998 s115, 24 months' retention, then
    `body` (data owners, recipients, signatories and clauses)."""
    head = f"""id: {protocol_id}
version: 1
title: {title}
status: active
valid_from: 2019-01-01
review_due: 2030-01-01
dpia_reference: TEST-DPIA
purposes: [Testing the hub]
legal_gateways: [{{ref: cda-1998-s115}}]
datasets: [{", ".join(datasets)}]
retention: {{months: 24}}
"""
    return head + body.lstrip("\n")
