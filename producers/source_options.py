"""Builds a feed's SourceOptions from the partner's files and the protocol register."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from producers.anonymisation.linkage_keys import LinkageKeyError, Pseudonymiser, load_keys
from producers.code_lists import read_code_lists
from producers.feed import Feed
from producers.publish import RECORD_ID_DOMAIN, SourceOptions, unlinked
from producers.settings import ProducerSettings
from sharing_protocols.dataset_spec import DatasetSpec
from sharing_protocols.decision import ProtocolRegister


def linkage_domains(spec: DatasetSpec, overrides: Mapping[str, str]) -> dict[str, str]:
    """Each linkage field of `spec` with its domain: the feed's default unless overridden."""
    unknown = sorted(set(overrides) - set(spec.linkage))
    if unknown:
        known = ", ".join(sorted(spec.linkage)) or "none"
        raise LinkageKeyError(f"{spec.name} has no linkage field(s) {unknown}; its linkage fields: {known}")
    return {**spec.linkage, **overrides}


def read_vocabulary(path: Path | None) -> frozenset[str] | None:
    """A deployment's free-text vocabulary: whitespace-separated words (case ignored)."""
    return None if path is None else frozenset(path.read_text(encoding="utf-8").lower().split())


def build_source_options(
    feed: Feed[Any],
    partner: str,
    *,
    settings: ProducerSettings | None = None,
    domains: Mapping[str, str] | None = None,
    register: ProtocolRegister | None = None,
    today: date | None = None,
    environ: Mapping[str, str] | None = None,
    extra_columns: bool = False,
) -> SourceOptions:
    """Options for publishing `feed` as `partner`. With a register, time is coarsened to what its clauses grant;
    `extra_columns`: columns the feed does not know are left out rather than the file refused."""
    settings = settings or ProducerSettings()
    assigned = linkage_domains(feed.spec, domains or {})
    keys = load_keys(settings.keys_file, set(assigned.values()) | {RECORD_ID_DOMAIN}, environ)
    precision = (
        register.finest_temporal_precision(feed.name, partner, today or date.today())
        if register is not None
        else "timestamp"
    )
    return SourceOptions(
        partner=partner,
        pseudonymise=Pseudonymiser(assigned, keys) if assigned else unlinked,
        code_lists=read_code_lists(settings.code_lists_dir),
        vocabulary=read_vocabulary(settings.vocabulary_file),
        temporal_precision=precision,
        record_key=keys.get(RECORD_ID_DOMAIN),
        max_message_bytes=settings.max_message_bytes,
        extra_columns=extra_columns,
    )
