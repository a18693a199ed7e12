"""Helpers for the partner-feed unit tests: producer options with test keys, Eastbourne postcodes, publishing."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from producers.anonymisation.linkage_keys import Pseudonymiser
from producers.feed import Feed
from producers.generators.base import FeedGenerator, GenerateRequest, PostcodePoint, read_codepoint, write_csv
from producers.publish import PublishSummary, SourceOptions, envelopes
from sharing_protocols.envelope import EventEnvelope
from tests.support.open_data import EASTBOURNE_CODEPOINT, SHARED_DATA

TEST_KEYS = {"person": b"p" * 32, "record-ids": b"r" * 32}


def options(feed: Feed[Any], code_lists: dict[str, dict[str, str]] | None = None) -> SourceOptions:
    """Options as a partner's producer builds them, with 32-byte test keys for every linkage domain."""
    linkage = feed.spec.linkage
    keys = {**TEST_KEYS, **{domain: domain.encode().ljust(32, b"k") for domain in linkage.values()}}
    return SourceOptions(
        partner=feed.default_partner,
        pseudonymise=Pseudonymiser(linkage, keys),
        code_lists=code_lists or {},
        record_key=keys["record-ids"],
    )


@cache
def eastbourne_postcodes() -> tuple[PostcodePoint, ...]:
    return tuple(read_codepoint(SHARED_DATA / EASTBOURNE_CODEPOINT))


def generated(generator: FeedGenerator, rows: int = 200, seed: int = 7) -> list[dict[str, str]]:
    return list(generator.rows(GenerateRequest(rows=rows, seed=seed, postcodes=eastbourne_postcodes())))


def write(generator: FeedGenerator, path: Path, records: list[dict[str, str]]) -> Path:
    """`records` written as the generator writes them: CSV, or its own format for other suffixes."""
    if path.suffix == ".csv":
        write_csv(path, records, generator.columns)
    else:
        assert generator.write is not None
        generator.write(path, records, generator.columns)
    return path


def publish(
    feed: Feed[Any], path: Path, opts: SourceOptions | None = None
) -> tuple[list[EventEnvelope], PublishSummary]:
    """The events of `path` and the summary of publishing it."""
    summary = PublishSummary(file=str(path), dataset=feed.name)
    events = list(envelopes(feed, path, opts or options(feed), summary))
    return events, summary
