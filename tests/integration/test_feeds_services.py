"""The service feeds end to end: ISTV A&E (XML), fire incidents, health admissions and aggregate returns generated
with `hub generate`, the real police.uk API extract and ONS district populations, all published with `hub publish`
and loaded by the worker under the packaged protocols.

Every expectation is computed here from the files with `csv`/ElementTree: the event ids (keyed by the record-id
secret over each feed's own record key), categories by month, and the counts of aggregate returns.
"""

from __future__ import annotations

import csv
import os
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import parse

import pytest

from producers.generators.istv_ae import write_test_code_lists
from sharing_protocols.envelope import keyed_event_id
from tests.support.hub import HubEnv, Worker, run_all
from tests.support.open_data import COLCHESTER_API, LAD_MID2020_AGEBANDS

pytestmark = pytest.mark.integration

RECORD_KEY = "r" * 48
KEYS = {"HUB_LINKAGE_KEY_PERSON": "p" * 48, "HUB_LINKAGE_KEY_RECORD_IDS": RECORD_KEY}
EASTBOURNE, WEALDEN = "E07000061", "E07000065"
Row = dict[str, str]


def _istv_key(row: Row) -> str:
    return f"{row['SiteCode']}:{row['AttendanceId']}"


def _fire_category(row: Row) -> str:
    kind = {"Primary fire": "primary-fire", "Secondary fire": "secondary-fire", "Chimney fire": "chimney-fire"}
    if row["Incident Group"] == "Fire":
        return f"{row['Cause Motive'].lower()}-{kind.get(row['Incident Type'], 'late-fire-call')}"
    return "false-alarm" if row["Incident Group"] == "False alarm" else "special-service"


def _quarter_month(quarter: str) -> date:
    return date(int(quarter[:4]), 3 * int(quarter[-1]) - 2, 1)


def _month(text_: str) -> date:
    return _quarter_month(text_) if "Q" in text_ else date(int(text_[:4]), int(text_[5:7]), 1)


@dataclass(frozen=True)
class Feed:
    """One feed of this module: how its file is made, and how the test reads its rows independently."""

    dataset: str
    partner: str
    file: str
    key: Callable[[Row], str]
    category: Callable[[Row], str]
    month: Callable[[Row], date]
    generate: tuple[str, ...] = ()  # `hub generate` options; empty: a real file from the shared data


FEEDS = (
    Feed(
        "istv-ae",
        "istv-ae-eastbourne-dgh",
        "istv.xml",
        _istv_key,
        lambda r: "assault",
        lambda r: _month(r["AssaultDate"] or r["ArrivalDate"]),
        ("--rows", "300", "--district", EASTBOURNE),
    ),
    Feed(
        "fire-incidents",
        "esfrs",
        "fire.csv",
        lambda r: r["Incident Number"],
        _fire_category,
        lambda r: _month(r["Call Date"]),
        ("--rows", "400", "--district", EASTBOURNE, "--district", WEALDEN),
    ),
    Feed(
        "health-admissions",
        "nhs-sussex-icb",
        "admissions.csv",
        lambda r: f"{r['Outward Code']}|{r['ICD10 Block']}|{r['Quarter']}",
        lambda r: r["ICD10 Block"].lower(),
        lambda r: _quarter_month(r["Quarter"]),
        ("--rows", "500", "--district", EASTBOURNE),
    ),
    Feed(
        "aggregate-returns",
        "east-sussex-dast",
        "returns.csv",
        lambda r: f"{r['Area Code']}|{r['Period']}|{r['Measure']}",
        lambda r: r["Measure"],
        lambda r: _month(r["Period"]),
        ("--rows", "5000", "--district", EASTBOURNE, "--district", WEALDEN, "--months", "6"),
    ),
    Feed(
        "police-uk-api",
        "police-uk",
        COLCHESTER_API,
        lambda r: r["id"],
        lambda r: r["category"],
        lambda r: _month(r["date"]),
    ),
    Feed(
        "ons-population",
        "ons",
        LAD_MID2020_AGEBANDS,
        lambda r: f"{r['area_code']}|{r['year']}|{r['sex']}|{r['age_band']}|mid-year-estimate",
        lambda r: "population-district",
        lambda r: date(int(r["year"]), 6, 1),
    ),
)


def _rows(path: Path) -> list[Row]:
    if path.suffix == ".xml":
        return [{child.tag: child.text or "" for child in record} for record in parse(path).getroot()]
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def files(
    hub_env: HubEnv, worker: Worker, shared_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Path]]:
    """Each feed's file, generated or real, published and loaded."""
    tmp = tmp_path_factory.mktemp("services")
    codes = tmp / "codes"
    write_test_code_lists(codes)
    env = {**os.environ, **hub_env.env, **KEYS}
    cli = [sys.executable, "-m", "deploy.cli"]
    paths = {feed.dataset: (tmp / feed.file if feed.generate else shared_data / feed.file) for feed in FEEDS}
    run_all(
        [[*cli, "generate", f.dataset, str(paths[f.dataset]), "--seed", "5", *f.generate] for f in FEEDS if f.generate],
        env,
    )
    run_all(
        [[*cli, "publish", f.dataset, str(paths[f.dataset]), "--code-lists", str(codes)] for f in FEEDS],
        env,
    )
    worker.wait_until_loaded()
    yield paths


def _expected_ids(feed: Feed, rows: list[Row]) -> set[uuid.UUID]:
    return {keyed_event_id(RECORD_KEY.encode(), feed.dataset, feed.partner, feed.key(row)) for row in rows}


@pytest.fixture(scope="module")
def outcomes(files: dict[str, Path], hub_env: HubEnv) -> dict[str, tuple[dict[Any, tuple[Any, ...]], set[Any]]]:
    """Per feed: its loaded events (event id -> (category, month)) and the ids of its withheld events."""
    return {feed.dataset: hub_env.outcomes(feed.dataset) for feed in FEEDS}


PER_FEED = pytest.mark.parametrize("feed", FEEDS, ids=[feed.dataset for feed in FEEDS])


@PER_FEED
def test_every_record_has_its_own_key(feed: Feed, files: dict[str, Path]) -> None:
    rows = _rows(files[feed.dataset])
    assert len(_expected_ids(feed, rows)) == len(rows)


@PER_FEED
def test_every_record_is_loaded_or_withheld(
    feed: Feed, files: dict[str, Path], outcomes: dict[str, tuple[dict[Any, tuple[Any, ...]], set[Any]]]
) -> None:
    expected = _expected_ids(feed, _rows(files[feed.dataset]))
    loaded, withheld = outcomes[feed.dataset]
    assert set(loaded) | withheld == expected and not set(loaded) & withheld


@PER_FEED
def test_no_record_is_withheld(feed: Feed, outcomes: dict[str, tuple[dict[Any, tuple[Any, ...]], set[Any]]]) -> None:
    # The packaged protocols cover every category of these feeds: nothing is withheld.
    _, withheld = outcomes[feed.dataset]
    assert withheld == set()


@PER_FEED
def test_records_are_loaded_with_the_expected_categories_by_month(
    feed: Feed, files: dict[str, Path], outcomes: dict[str, tuple[dict[Any, tuple[Any, ...]], set[Any]]]
) -> None:
    loaded, _ = outcomes[feed.dataset]
    rows = _rows(files[feed.dataset])
    assert Counter(loaded.values()) == Counter((feed.category(row), feed.month(row)) for row in rows)


@pytest.fixture(scope="module")
def istv_events(files: dict[str, Path], hub_env: HubEnv) -> tuple[Any, ...]:
    """The ISTV events: how many, the attribute names they carry, and their temporal precisions."""
    [row] = hub_env.query(
        "SELECT count(*), array_agg(DISTINCT k), array_agg(DISTINCT temporal_precision) "
        "FROM event LEFT JOIN LATERAL jsonb_object_keys(attributes) k ON true WHERE dataset = 'istv-ae'",
    )
    return row


def test_istv_events_are_loaded(istv_events: tuple[Any, ...]) -> None:
    assert istv_events[0] >= 300


def test_istv_events_keep_only_the_attributes_the_protocol_releases(istv_events: tuple[Any, ...]) -> None:
    assert set(istv_events[1]) - {None} <= {"assault_location_type", "assault_method", "age_band", "sex"}


def test_istv_events_keep_only_the_month(istv_events: tuple[Any, ...]) -> None:
    assert istv_events[2] == ["month"]


@pytest.mark.parametrize(
    ("dataset", "column", "measure"),
    [("aggregate-returns", "Count", "Measure"), ("health-admissions", "Admissions", "ICD10 Block")],
    ids=["aggregate-returns", "health-admissions"],
)
def test_aggregate_counts_arrive_whole(
    files: dict[str, Path], hub_env: HubEnv, dataset: str, column: str, measure: str
) -> None:
    expected: Counter[str] = Counter()
    for row in _rows(files[dataset]):
        expected[row[measure] if dataset == "aggregate-returns" else row[measure].lower()] += int(row[column])
    got = dict(
        hub_env.query(
            "SELECT category, sum((attributes->>'count')::int) FROM event WHERE dataset = :d GROUP BY 1",
            d=dataset,
        )
    )
    assert got == dict(expected)


def test_aggregate_counts_of_zero_arrive(files: dict[str, Path], hub_env: HubEnv) -> None:
    [(zeros,)] = hub_env.query(
        "SELECT count(*) FROM event WHERE dataset = 'aggregate-returns' AND attributes->>'count' = '0'"
    )
    assert zeros == sum(1 for row in _rows(files["aggregate-returns"]) if row["Count"] == "0") > 0


def test_area_locations_fall_in_their_districts(files: dict[str, Path], hub_env: HubEnv) -> None:
    by_district = dict(
        hub_env.query(
            "SELECT district_code, count(*) FROM event WHERE dataset = 'aggregate-returns' GROUP BY 1",
        )
    )
    expected = Counter(row["Area Code"] for row in _rows(files["aggregate-returns"]))
    assert by_district == dict(expected)


@pytest.fixture(scope="module")
def fire_located(files: dict[str, Path], hub_env: HubEnv) -> tuple[int, int]:
    """Fire incidents with a ward, and those located."""
    [(fire_wards, located)] = hub_env.query(
        "SELECT count(ward_code), count(*) FILTER (WHERE location_status = 'located') "
        "FROM event WHERE dataset = 'fire-incidents'",
    )
    return int(fire_wards), int(located)


def test_every_located_grid_location_gets_a_ward(fire_located: tuple[int, int]) -> None:
    fire_wards, located = fire_located
    assert fire_wards == located


def test_nearly_every_grid_location_is_located(fire_located: tuple[int, int], files: dict[str, Path]) -> None:
    with_grid = sum(1 for row in _rows(files["fire-incidents"]) if row["Easting"])
    assert with_grid * 0.95 < fire_located[1] <= with_grid
