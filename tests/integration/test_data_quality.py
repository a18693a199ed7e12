"""The data-quality report on a police.uk file of known properties: every figure is worked out from the file."""

from __future__ import annotations

import calendar
import csv
import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from httpx import Response
from kafka import KafkaProducer
from pyproj import Transformer
from shapely import STRtree, points
from shapely.geometry import shape
from sqlalchemy import text

from deploy.topics import ensure_topics
from tests.support.hub import HubEnv, Worker
from tests.support.open_data import EASTBOURNE_STREET, WARDS_2024
from warehouse.queries.quality import DEFAULT_LATE_DAYS, FeedQuality, QualityReport, feed_quality, report_json
from warehouse.schema.db import session_scope

pytestmark = pytest.mark.integration

DATASET = "police-uk-street"
PARTNER = "police-uk"  # the feed's default partner: a data owner in the packaged protocols
OTHER = "sussex-police"  # sends a small file of its own
SILENT = "essex-police"  # a data owner of a packaged protocol in force that never sends anything
GARBLED = "garbled-partner"  # sends one undecodable message on a topic of its own, and nothing else
OLD_MONTH = "2019-01"
BLANK_LSOA = (1, 4, 9)  # rows (of the first 16) whose LSOA code is blanked


@dataclass(frozen=True)
class Published:
    """The rows written to the main file, and when they were published."""

    rows: list[dict[str, str]]
    today: date


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _publish(hub_env: HubEnv, path: Path, partner: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "deploy.cli", "publish", DATASET, str(path), "--partner", partner],
        env={**os.environ, **hub_env.env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def published(
    hub_env: HubEnv, worker: Worker, shared_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> Published:
    """16 rows with coordinates (6 of them from 2019, 3 without an LSOA code), 1 without coordinates and 2 ASB rows
    saying exactly the same (no crime id); plus 2 rows from another partner."""
    with (shared_data / EASTBOURNE_STREET).open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        source = [row for row in reader if row["Longitude"] and row["Latitude"]]
    today = datetime.now(UTC).date()
    current = today.strftime("%Y-%m")
    rows: list[dict[str, str]] = []
    for i, row in enumerate(source[:16]):
        month = OLD_MONTH if i < 6 else current
        lsoa = "" if i in BLANK_LSOA else row["LSOA code"]
        rows.append({**row, "Crime ID": uuid.uuid4().hex * 2, "Month": month, "LSOA code": lsoa})
    rows.append({**source[0], "Crime ID": uuid.uuid4().hex * 2, "Longitude": "", "Latitude": "", "Month": OLD_MONTH})
    asb = {**source[16], "Crime ID": "", "Month": current, "Crime type": "Anti-social behaviour"}
    rows += [dict(asb), dict(asb)]
    tmp = tmp_path_factory.mktemp("dq")
    _publish(hub_env, _write(tmp / "police-uk.csv", header, rows), PARTNER)
    other = [{**row, "Crime ID": uuid.uuid4().hex * 2, "Month": current} for row in source[20:22]]
    _publish(hub_env, _write(tmp / "sussex.csv", header, other), OTHER)
    worker.wait_until_loaded()
    _retract_one_and_send_garbage(hub_env)
    worker.wait_until_loaded()
    return Published(rows, today)


def _retract_one_and_send_garbage(hub_env: HubEnv) -> None:
    """A tombstone for one of the other partner's events, on its topic (a tombstone names no partner: the topic
    does), and one undecodable message on a topic of a partner that sends nothing else."""
    with hub_env.engine.connect() as conn:
        event_id = conn.execute(
            text("SELECT event_id FROM decision WHERE partner = :p ORDER BY id LIMIT 1"), {"p": OTHER}
        ).scalar_one()
    producer = KafkaProducer(**hub_env.admin.kafka_python(), acks="all", enable_idempotence=True)
    ensure_topics(hub_env.kafka, [hub_env.kafka.partner_topic(DATASET, GARBLED)], access=hub_env.admin)
    producer.send(hub_env.kafka.partner_topic(DATASET, OTHER), key=str(event_id).encode(), value=None)
    producer.send(hub_env.kafka.partner_topic(DATASET, GARBLED), key=b"k1", value=b"{not json")
    producer.flush()
    producer.close()


def _report(hub_env: HubEnv, **kwargs: Any) -> QualityReport:
    with session_scope(hub_env.engine) as session:
        return feed_quality(session, hub_env.register, datetime.now(UTC), **kwargs)


def _feed(feeds: list[FeedQuality], dataset: str, partner: str) -> FeedQuality:
    return next(f for f in feeds if (f.dataset, f.partner) == (dataset, partner))


def _in_coverage(shared_data: Path, rows: list[dict[str, str]]) -> int:
    """How many rows have coordinates inside a loaded ward (worked out here with shapely, not the geocoder)."""
    features = json.loads((shared_data / WARDS_2024).read_text(encoding="utf-8"))["features"]
    tree = STRtree([shape(f["geometry"]) for f in features])
    located = [r for r in rows if r["Longitude"] and r["Latitude"]]
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    x, y = to_bng.transform([float(r["Longitude"]) for r in located], [float(r["Latitude"]) for r in located])
    hits = tree.query(points(list(zip(x, y, strict=True))), predicate="covered_by")
    return len(set(hits[0].tolist()))


def _content(row: dict[str, str]) -> tuple[str, ...]:
    """What a row says, without the columns that never reach the event (LSOA name, Context)."""
    return tuple(value for name, value in row.items() if name not in ("LSOA name", "Context"))


def _is_late(month: str, today: date, days: int) -> bool:
    year, mon = int(month[:4]), int(month[5:])
    end = date(year, mon, calendar.monthrange(year, mon)[1])
    return (today - end).days > days


@pytest.fixture(scope="module")
def report(published: Published, hub_env: HubEnv) -> QualityReport:
    """The report over all time with the default late threshold."""
    return _report(hub_env)


@pytest.fixture(scope="module")
def feed(report: QualityReport) -> FeedQuality:
    """The main file's feed."""
    return _feed(report.feeds, DATASET, PARTNER)


@pytest.fixture(scope="module")
def total(published: Published) -> int:
    return len(published.rows)


def test_the_report_counts_every_event_once_with_one_version_and_one_decision(feed: FeedQuality, total: int) -> None:
    assert (feed.events, feed.versions, feed.decisions) == (total, total, total)


def test_every_event_is_released_or_withheld(feed: FeedQuality, total: int) -> None:
    assert feed.released + feed.withheld == total


def test_nothing_of_the_file_is_retracted_or_dead_lettered(feed: FeedQuality) -> None:
    assert (feed.retracted, feed.dead_lettered) == (0, 0)


def test_completeness_is_reported_for_the_datasets_fields(feed: FeedQuality) -> None:
    assert [c.field for c in feed.completeness] == [
        "crime_id",
        "reported_by",
        "falls_within",
        "location_description",
        "lsoa_code",
        "last_outcome_category",
        "location",
    ]


def _completeness(feed: FeedQuality, field: str) -> Any:
    return {c.field: c for c in feed.completeness}[field]


def _with_lsoa(published: Published) -> int:
    return sum(1 for r in published.rows if r["LSOA code"].strip())


def test_the_file_blanks_the_lsoa_codes_it_means_to(published: Published, total: int) -> None:
    assert _with_lsoa(published) == total - len(BLANK_LSOA)


def test_lsoa_completeness_counts_the_rows_with_a_code(feed: FeedQuality, published: Published) -> None:
    assert _completeness(feed, "lsoa_code").present == _with_lsoa(published)


def test_lsoa_completeness_share_is_of_all_rows(feed: FeedQuality, published: Published, total: int) -> None:
    assert _completeness(feed, "lsoa_code").share == pytest.approx(_with_lsoa(published) / total)


def test_crime_id_completeness_counts_the_rows_with_an_id(feed: FeedQuality, published: Published, total: int) -> None:
    with_crime_id = sum(1 for r in published.rows if r["Crime ID"])
    assert _completeness(feed, "crime_id").present == with_crime_id == total - 2


def test_location_completeness_counts_the_rows_with_coordinates(
    feed: FeedQuality, published: Published, total: int
) -> None:
    with_location = sum(1 for r in published.rows if r["Longitude"] and r["Latitude"])
    assert _completeness(feed, "location").present == with_location == total - 1


def test_a_field_every_row_has_is_complete(feed: FeedQuality) -> None:
    assert _completeness(feed, "reported_by").share == 1.0


@pytest.fixture(scope="module")
def geocodable(published: Published, shared_data: Path) -> int:
    return _in_coverage(shared_data, published.rows)


def test_some_of_the_file_lies_in_the_loaded_wards(geocodable: int) -> None:
    assert geocodable > 0


def test_the_report_counts_the_geocodable_events(feed: FeedQuality, geocodable: int) -> None:
    assert feed.geocodable == geocodable


def test_the_report_gives_the_geocodable_share(feed: FeedQuality, geocodable: int, total: int) -> None:
    assert feed.geocodable_share == pytest.approx(geocodable / total)


@pytest.fixture(scope="module")
def copies(published: Published) -> Counter[tuple[str, ...]]:
    return Counter(_content(r) for r in published.rows)


def test_the_report_counts_duplicates(feed: FeedQuality, copies: Counter[tuple[str, ...]]) -> None:
    assert feed.duplicates == sum(n - 1 for n in copies.values()) == 1


def test_the_report_counts_groups_of_duplicates(feed: FeedQuality, copies: Counter[tuple[str, ...]]) -> None:
    assert feed.duplicate_groups == sum(1 for n in copies.values() if n > 1) == 1


@pytest.fixture(scope="module")
def late(published: Published) -> int:
    return sum(1 for r in published.rows if _is_late(r["Month"], published.today, DEFAULT_LATE_DAYS))


def test_the_file_has_seven_late_rows(late: int) -> None:
    assert late == 7  # the six 2019 rows with coordinates and the one without


def test_the_report_counts_late_events(feed: FeedQuality, late: int) -> None:
    assert feed.late == late


def test_the_report_gives_the_late_share(feed: FeedQuality, late: int, total: int) -> None:
    assert feed.late_share == pytest.approx(late / total)


def test_a_feed_that_sent_this_week_is_ok(feed: FeedQuality) -> None:
    assert feed.volume.status == "ok"


def test_the_volume_counts_the_last_7_days(feed: FeedQuality, total: int) -> None:
    assert feed.volume.last_7_days == total


def test_the_volume_counts_the_8_weeks_before(feed: FeedQuality) -> None:
    assert feed.volume.weekly == [0] * 8


def test_the_volume_says_when_the_feed_was_last_seen(feed: FeedQuality) -> None:
    assert feed.volume.last_seen is not None


def test_the_feed_names_the_protocols_it_flows_under(feed: FeedQuality) -> None:
    assert feed.protocols  # the packaged protocols name police-uk as a data owner


@pytest.fixture(scope="module")
def silent(report: QualityReport) -> FeedQuality:
    return _feed(report.feeds, DATASET, SILENT)


def test_a_protocol_owner_that_never_sent_data_is_reported(silent: FeedQuality) -> None:
    assert silent.protocols


def test_a_protocol_owner_that_never_sent_data_shows_no_data(silent: FeedQuality) -> None:
    assert silent.volume.status == "no_data"


def test_a_protocol_owner_that_never_sent_data_was_never_seen(silent: FeedQuality) -> None:
    assert silent.volume.last_seen is None


def test_a_protocol_owner_that_never_sent_data_has_no_events(silent: FeedQuality) -> None:
    assert silent.events == 0


def test_a_protocol_owner_that_never_sent_data_has_no_completeness_not_zeros(silent: FeedQuality) -> None:
    assert all(c.share is None for c in silent.completeness)


def test_a_protocol_owner_that_never_sent_data_has_no_shares_not_zeros(silent: FeedQuality) -> None:
    assert (silent.geocodable_share, silent.late_share) == (None, None)


def test_a_partner_that_sent_a_small_file_is_ok(report: QualityReport) -> None:
    assert _feed(report.feeds, DATASET, OTHER).volume.status == "ok"


def test_retractions_go_to_the_retracted_events_partner(report: QualityReport) -> None:
    other = _feed(report.feeds, DATASET, OTHER)
    assert (other.events, other.retracted, other.dead_lettered) == (2, 1, 0)


def test_dead_letters_go_to_the_partner_whose_topic_carried_them(report: QualityReport) -> None:
    garbled = _feed(report.feeds, DATASET, GARBLED)
    assert (garbled.dead_lettered, garbled.events, garbled.retracted) == (1, 0, 0)
    assert all(f.partner != "unknown" for f in report.feeds)  # every message came on a partner's topic


def test_a_partner_that_sent_only_garbage_shows_no_data(report: QualityReport) -> None:
    assert _feed(report.feeds, DATASET, GARBLED).volume.status == "no_data"


@pytest.fixture(scope="module")
def empty_window(published: Published, hub_env: HubEnv) -> FeedQuality:
    """The main feed in a window without decisions."""
    return _feed(_report(hub_env, since=datetime(2999, 1, 1, tzinfo=UTC)).feeds, DATASET, PARTNER)


def test_a_window_without_decisions_has_no_events(empty_window: FeedQuality) -> None:
    assert empty_window.events == 0


def test_a_window_without_decisions_has_no_shares(empty_window: FeedQuality) -> None:
    assert all(c.share is None for c in empty_window.completeness)


def test_a_window_without_decisions_keeps_the_feed_status(empty_window: FeedQuality) -> None:
    assert empty_window.volume.status == "ok"


def test_late_days_is_configurable(published: Published, hub_env: HubEnv) -> None:
    feed = _feed(_report(hub_env, late_days=100_000).feeds, DATASET, PARTNER)
    assert feed.late == 0


def _hub(hub_env: HubEnv, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deploy.cli", *args],
        env={**os.environ, **hub_env.env, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def dq_json(published: Published, hub_env: HubEnv) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """`hub dq --json` at a given time, and the report computed here for that time."""
    now = datetime.now(UTC)
    result = _hub(hub_env, "dq", "--json", "--now", now.isoformat())
    with session_scope(hub_env.engine) as session:
        expected = report_json(feed_quality(session, hub_env.register, now))
    return result, expected


def test_hub_dq_json_succeeds(dq_json: tuple[subprocess.CompletedProcess[str], dict[str, Any]]) -> None:
    assert dq_json[0].returncode == 0, dq_json[0].stderr


def test_hub_dq_json_prints_the_same_report(dq_json: tuple[subprocess.CompletedProcess[str], dict[str, Any]]) -> None:
    assert json.loads(dq_json[0].stdout) == dq_json[1]


@pytest.fixture(scope="module")
def dq_table(published: Published, hub_env: HubEnv) -> subprocess.CompletedProcess[str]:
    """`hub dq` as a table, for the silent partner only."""
    return _hub(hub_env, "dq", "--dataset", DATASET, "--partner", SILENT, COLUMNS="200")


def test_hub_dq_table_succeeds(dq_table: subprocess.CompletedProcess[str]) -> None:
    assert dq_table.returncode == 0, dq_table.stderr


def test_hub_dq_table_shows_the_chosen_feed(dq_table: subprocess.CompletedProcess[str]) -> None:
    assert f"{DATASET} from {SILENT}: no_data" in dq_table.stdout


def test_hub_dq_table_shows_only_the_chosen_partner(dq_table: subprocess.CompletedProcess[str]) -> None:
    assert PARTNER + ":" not in dq_table.stdout


@dataclass(frozen=True)
class ApiDq:
    """/v1/dq asked by an analyst, by a partner for its own and another's feeds, and by an IG lead; then the log."""

    analyst: Response
    own: Response
    others: Response
    lead: Response
    expected: dict[str, Any]
    logged: list[tuple[Any, ...]]


@pytest.fixture(scope="module")
def api_dq(published: Published, hub_env: HubEnv) -> ApiDq:
    analyst = hub_env.api_client("eastbourne-csp", "analyst").get("/v1/dq")
    partner = hub_env.api_client(PARTNER, "partner")
    own = partner.get("/v1/dq")
    others = partner.get("/v1/dq", params={"partner": OTHER})
    lead = hub_env.api_client("hub", "ig_lead").get("/v1/dq", params={"late_days": 35})
    with session_scope(hub_env.engine) as session:
        expected = report_json(feed_quality(session, hub_env.register, datetime.now(UTC)))
    with hub_env.engine.connect() as conn:
        logged = conn.execute(
            text("SELECT org, role, status FROM access_log WHERE endpoint = '/v1/dq' ORDER BY id")
        ).all()
    return ApiDq(analyst, own, others, lead, expected, [tuple(r) for r in logged])


def test_api_dq_is_not_for_analysts(api_dq: ApiDq) -> None:
    assert api_dq.analyst.status_code == 403


def test_api_dq_is_for_a_partner(api_dq: ApiDq) -> None:
    assert api_dq.own.status_code == 200


def test_api_dq_gives_a_partner_only_its_own_feeds(api_dq: ApiDq) -> None:
    feeds = api_dq.own.json()["feeds"]
    assert feeds and {f["partner"] for f in feeds} == {PARTNER}


def test_api_dq_refuses_a_partner_another_partners_feeds(api_dq: ApiDq) -> None:
    assert api_dq.others.status_code == 403


def test_api_dq_is_for_ig_leads(api_dq: ApiDq) -> None:
    assert api_dq.lead.status_code == 200


def _lead_feeds(api_dq: ApiDq) -> dict[tuple[str, str], dict[str, Any]]:
    return {(f["dataset"], f["partner"]): f for f in api_dq.lead.json()["feeds"]}


def test_api_dq_gives_an_ig_lead_every_partners_feeds(api_dq: ApiDq) -> None:
    assert {(DATASET, PARTNER), (DATASET, OTHER), (DATASET, SILENT)} <= set(_lead_feeds(api_dq))


def test_api_dq_shows_a_silent_owner_as_no_data(api_dq: ApiDq) -> None:
    assert _lead_feeds(api_dq)[(DATASET, SILENT)]["volume"]["status"] == "no_data"


def test_api_dq_gives_the_same_report(api_dq: ApiDq) -> None:
    assert api_dq.lead.json()["feeds"] == api_dq.expected["feeds"]


def test_api_dq_logs_every_request_with_its_status(api_dq: ApiDq) -> None:
    assert api_dq.logged == [
        ("eastbourne-csp", "analyst", 403),
        (PARTNER, "partner", 200),
        (PARTNER, "partner", 403),
        ("hub", "ig_lead", 200),
    ]
