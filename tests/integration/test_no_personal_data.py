"""Identifiers planted in every identifier, free-text and unexpected column of every feed reach neither Kafka,
the warehouse nor the logs.

Each generated feed is written with distinctive planted names in its name columns, and with a planted note (a
name, an NHS number, a phone number, an e-mail address, an NI number and a full postcode that no record is
located at) in each free-text column and in an extra column no schema knows. The real police.uk samples get the
same note in their free-text columns. Everything is published with `hub publish` and loaded by `hub worker`;
then every message on the hub's topics, every row of every warehouse table and both processes' output are
searched for each identifier, in every spelling the test can think of.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaConsumer
from sqlalchemy import text

from producers.generators.base import GenerateRequest, read_codepoint, write_csv
from producers.generators.registry import all_generators
from sharing_protocols.catalogue import CATALOGUE
from tests.support.hub import HubEnv, Worker
from tests.support.open_data import CODEPOINT, COLCHESTER_API, EASTBOURNE_STREET

pytestmark = pytest.mark.integration

KEYS = {"HUB_LINKAGE_KEY_PERSON": "p" * 48, "HUB_LINKAGE_KEY_RECORD_IDS": "r" * 48}
NAME_PARTS = ("Persephone", "Quillfeather", "Zebedeus", "Zanzibarova")
PLANTED_POSTCODE = "SO14 7DU"  # a Southampton postcode: the feeds are generated in Eastbourne only
NOTE = (
    "Persephone Quillfeather said Zebedeus Zanzibarova hit her, NHS 943 476 5919, call 07700 900871 or "
    f"persephone.q@example.org, NI QQ 12 34 56 C, lives at {PLANTED_POSTCODE}"
)
NOTE_SECRETS = (
    *NAME_PARTS,
    "9434765919",
    "943 476 5919",
    "07700900871",
    "07700 900871",
    "persephone.q@example",
    "QQ123456C",
    "QQ 12 34 56 C",
    "SO14 7DU",
    "SO147DU",
)
REAL_SAMPLES = {  # feeds with a real sample: the file, and its free-text columns
    "police-uk-street": (EASTBOURNE_STREET, ("Location", "Context")),
    "police-uk-api": (COLCHESTER_API, ("street_name", "context")),
}
EXTRA_COLUMN = "Officer Notes"
_NHS = re.compile(r"^\d{3} ?\d{3} ?\d{4}$")
_PHONE = re.compile(r"^(?:\+44 ?|0)7\d{3} ?\d{6}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$|^\d{2}/\d{2}/\d{4}$")


def _spellings(value: str) -> set[str]:
    """The value as written, without spaces, and for digit strings also grouped 3-3-4."""
    compact = re.sub(r"\s+", "", value)
    found = {value, compact}
    if compact.isdigit() and len(compact) == 10:
        found.add(f"{compact[:3]} {compact[3:6]} {compact[6:]}")
    return {s.lower() for s in found if len(s) >= 4}


def _plant(rows: list[dict[str, str]], identifiers: tuple[str, ...], free_text: tuple[str, ...]) -> set[str]:
    """Plant identifiers in `rows` in place; the secrets to search for."""
    secrets: set[str] = {s.lower() for s in NOTE_SECRETS}
    for index, row in enumerate(rows):
        for column in identifiers:
            value = row.get(column, "")
            if not value:
                continue
            if _NHS.match(value) or _PHONE.match(value) or "@" in value or _DATE.match(value):
                secrets |= _spellings(value)  # keep the generated identifier (it must stay valid) and search it
            else:
                row[column] = NAME_PARTS[(index + len(column)) % 4]  # a name nobody else has
        for column in free_text:
            row[column] = f"{row.get(column, '')} {NOTE}".strip()
        row[EXTRA_COLUMN] = NOTE
    return secrets


@pytest.fixture(scope="module")
def planted_files(
    tmp_path_factory: pytest.TempPathFactory, shared_data: Path
) -> tuple[list[tuple[str, Path]], set[str]]:
    """(feed, file) for every feed, and every secret planted in them."""
    directory = tmp_path_factory.mktemp("planted")
    points = read_codepoint(shared_data / CODEPOINT, ("E07000061",))
    assert PLANTED_POSTCODE.replace(" ", "") not in {p.postcode.replace(" ", "") for p in points}
    files: list[tuple[str, Path]] = []
    secrets: set[str] = set()
    for feed, generator in sorted(all_generators().items()):
        rows = list(generator.rows(GenerateRequest(rows=60, seed=7, postcodes=points)))
        secrets |= _plant(rows, generator.identifier_columns, generator.free_text_columns)
        path = directory / f"{feed}.csv"
        write_csv(path, rows, generator.columns)
        files.append((feed, path))
    for feed, (relative, free_text) in REAL_SAMPLES.items():
        if feed not in CATALOGUE:
            continue
        with (shared_data / relative).open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            columns = tuple(reader.fieldnames or ())
            rows = [row for _, row in zip(range(300), reader, strict=False)]
        secrets |= _plant(rows, (), free_text)
        path = directory / f"{feed}.csv"
        write_csv(path, rows, columns)
        files.append((feed, path))
    return files, secrets


@pytest.fixture(scope="module")
def published(
    hub_env: HubEnv, worker: Worker, planted_files: tuple[list[tuple[str, Path]], set[str]]
) -> list[subprocess.CompletedProcess[str]]:
    runs = []
    for feed, path in planted_files[0]:
        runs.append(
            subprocess.run(
                # the extra column is refused without the option (tests/unit/producers/test_file_classes.py)
                [sys.executable, "-m", "deploy.cli", "publish", feed, str(path), "--allow-extra-columns"],
                env={**os.environ, **hub_env.env, **KEYS},
                capture_output=True,
                text=True,
                timeout=300,
            )
        )
    worker.wait_until_loaded()
    return runs


def _topic_text(hub_env: HubEnv) -> Iterator[str]:
    consumer = KafkaConsumer(**hub_env.admin.kafka_python(), auto_offset_reset="earliest", consumer_timeout_ms=3000)
    topics = [t for t in consumer.topics() if t.startswith(hub_env.prefix + ".")]
    consumer.subscribe(topics)
    try:
        for message in consumer:
            parts = [message.key or b"", message.value or b""] + [v or b"" for _, v in message.headers or []]
            yield b" ".join(parts).decode("utf-8", "replace").lower()
    finally:
        consumer.close()


def _warehouse_text(hub_env: HubEnv) -> Iterator[str]:
    with hub_env.engine.connect() as conn:
        tables = conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'spatial_ref_sys'")
        ).scalars()
        for table in list(tables):
            for (row,) in conn.execute(text(f'SELECT t::text FROM "{table}" t')):
                yield str(row).lower()


def _leaks(haystack: Iterator[str], secrets: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for item in haystack:
        for secret in secrets:
            if secret in item:
                found[secret] = found.get(secret, 0) + 1
    return found


def test_every_feed_has_a_planted_file(planted_files: tuple[list[tuple[str, Path]], set[str]]) -> None:
    feeds = {feed for feed, _ in planted_files[0]}
    assert feeds >= set(CATALOGUE) - {"ons-population"}, f"feeds without a planted file: {set(CATALOGUE) - feeds}"


def test_every_feed_was_published(published: list[subprocess.CompletedProcess[str]]) -> None:
    for run in published:
        assert run.returncode == 0, run.stderr[-2000:]


def test_every_feed_was_published_without_losing_a_row(published: list[subprocess.CompletedProcess[str]]) -> None:
    for run in published:
        assert " 0 rejected" in run.stderr, run.stderr[-2000:]


@pytest.fixture(scope="module")
def messages(published: list[subprocess.CompletedProcess[str]], hub_env: HubEnv) -> list[str]:
    """Every message on the hub's topics (key, value and headers), lower case."""
    return list(_topic_text(hub_env))


def test_kafka_holds_every_published_row_to_search(messages: list[str]) -> None:
    assert len(messages) >= 60 * len(all_generators())


def test_no_identifier_reaches_kafka(
    messages: list[str], planted_files: tuple[list[tuple[str, Path]], set[str]]
) -> None:
    assert _leaks(iter(messages), planted_files[1]) == {}


@pytest.fixture(scope="module")
def warehouse_rows(published: list[subprocess.CompletedProcess[str]], hub_env: HubEnv) -> list[str]:
    """Every row of every warehouse table, as text, lower case."""
    return list(_warehouse_text(hub_env))


def test_the_warehouse_holds_every_published_row_to_search(warehouse_rows: list[str]) -> None:
    assert len(warehouse_rows) >= 60 * len(all_generators())


def test_no_identifier_reaches_the_warehouse(
    warehouse_rows: list[str], planted_files: tuple[list[tuple[str, Path]], set[str]]
) -> None:
    assert _leaks(iter(warehouse_rows), planted_files[1]) == {}


@pytest.fixture(scope="module")
def logs(published: list[subprocess.CompletedProcess[str]], worker: Worker) -> list[str]:
    """The publishers' output and the worker's log, lower case."""
    return [run.stdout.lower() + run.stderr.lower() for run in published] + [worker.log.read_text().lower()]


def test_the_worker_logged(logs: list[str]) -> None:
    assert any("batch of" in log for log in logs)  # the worker did log


def test_no_identifier_reaches_the_logs(
    logs: list[str], planted_files: tuple[list[tuple[str, Path]], set[str]]
) -> None:
    assert _leaks(iter(logs), planted_files[1]) == {}


@pytest.fixture(scope="module")
def planted_text(planted_files: tuple[list[tuple[str, Path]], set[str]]) -> str:
    """The planted files themselves, lower case."""
    return " ".join(path.read_text(encoding="utf-8").lower() for _, path in planted_files[0])


def test_the_planted_names_are_findable_where_they_were_planted(planted_text: str) -> None:
    """The search works: every secret is in the planted files themselves."""
    assert all(part.lower() in planted_text for part in NAME_PARTS)


def test_the_planted_note_is_findable_where_it_was_planted(planted_text: str) -> None:
    assert all(secret in planted_text for secret in ("943 476 5919", "07700 900871", "qq 12 34 56 c", "so14 7du"))


def test_the_generated_identifiers_are_findable_where_they_were_planted(
    planted_text: str, planted_files: tuple[list[tuple[str, Path]], set[str]]
) -> None:
    generated = {s for s in planted_files[1] if s not in {n.lower() for n in NOTE_SECRETS}}
    assert generated and sum(1 for s in generated if s in planted_text) >= len(generated) / 3  # one spelling of each
