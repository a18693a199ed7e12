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
from kafka import KafkaProducer
from pyproj import Transformer
from shapely import STRtree, points
from shapely.geometry import shape
from sqlalchemy import text

from tests.support.hub import HubEnv, Worker
from tests.support.open_data import EASTBOURNE_STREET, WARDS_2024
from warehouse.queries.quality import DEFAULT_LATE_DAYS, FeedQuality, QualityReport, feed_quality, report_json
from warehouse.schema.db import session_scope

pytestmark = pytest.mark.integration

DATASET = "police-uk-street"
PARTNER = "police-uk"  # the feed's default partner: a data owner in the packaged protocols
OTHER = "sussex-police"  # sends a small file of its own
SILENT = "essex-police"  # a data owner of a packaged protocol in force that never sends anything
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
    """A tombstone for one of the other partner's events (which names no partner) and one undecodable message."""
    with hub_env.engine.connect() as conn:
        event_id = conn.execute(
            text("SELECT event_id FROM decision WHERE partner = :p ORDER BY id LIMIT 1"), {"p": OTHER}
        ).scalar_one()
    producer = KafkaProducer(bootstrap_servers=hub_env.kafka.servers, acks="all", enable_idempotence=True)
    topic = hub_env.kafka.topic(DATASET)
    producer.send(topic, key=str(event_id).encode(), value=None)
    producer.send(topic, key=b"k1", value=b"{not json")
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


def test_the_report_figures_are_those_of_the_file(published: Published, shared_data: Path, hub_env: HubEnv) -> None:
    rows = published.rows
    feed = _feed(_report(hub_env).feeds, DATASET, PARTNER)
    total = len(rows)
    assert (feed.events, feed.versions, feed.decisions) == (total, total, total)
    assert feed.released + feed.withheld == total
    assert (feed.retracted, feed.dead_lettered) == (0, 0)

    completeness = {c.field: c for c in feed.completeness}
    assert list(completeness) == [
        "crime_id",
        "reported_by",
        "falls_within",
        "location_description",
        "lsoa_code",
        "last_outcome_category",
        "location",
    ]
    with_lsoa = sum(1 for r in rows if r["LSOA code"].strip())
    assert with_lsoa == total - len(BLANK_LSOA)
    assert completeness["lsoa_code"].present == with_lsoa
    assert completeness["lsoa_code"].share == pytest.approx(with_lsoa / total)
    with_crime_id = sum(1 for r in rows if r["Crime ID"])
    assert completeness["crime_id"].present == with_crime_id == total - 2
    with_location = sum(1 for r in rows if r["Longitude"] and r["Latitude"])
    assert completeness["location"].present == with_location == total - 1
    assert completeness["reported_by"].share == 1.0

    geocodable = _in_coverage(shared_data, rows)
    assert geocodable > 0
    assert feed.geocodable == geocodable
    assert feed.geocodable_share == pytest.approx(geocodable / total)

    copies = Counter(_content(r) for r in rows)
    assert feed.duplicates == sum(n - 1 for n in copies.values()) == 1
    assert feed.duplicate_groups == sum(1 for n in copies.values() if n > 1) == 1

    late = sum(1 for r in rows if _is_late(r["Month"], published.today, DEFAULT_LATE_DAYS))
    assert late == 7  # the six 2019 rows with coordinates and the one without
    assert feed.late == late
    assert feed.late_share == pytest.approx(late / total)

    assert feed.volume.status == "ok"
    assert feed.volume.last_7_days == total
    assert feed.volume.weekly == [0] * 8
    assert feed.volume.last_seen is not None
    assert feed.protocols  # the packaged protocols name police-uk as a data owner


def test_a_protocol_owner_that_never_sent_data_shows_no_data_not_zeros(published: Published, hub_env: HubEnv) -> None:
    report = _report(hub_env)
    silent = _feed(report.feeds, DATASET, SILENT)
    assert silent.protocols
    assert silent.volume.status == "no_data"
    assert silent.volume.last_seen is None
    assert silent.events == 0
    assert all(c.share is None for c in silent.completeness)
    assert (silent.geocodable_share, silent.late_share) == (None, None)
    assert _feed(report.feeds, DATASET, OTHER).volume.status == "ok"


def test_retractions_go_to_the_retracted_events_partner_and_dead_letters_to_unknown(
    published: Published, hub_env: HubEnv
) -> None:
    report = _report(hub_env)
    other = _feed(report.feeds, DATASET, OTHER)
    assert (other.events, other.retracted, other.dead_lettered) == (2, 1, 0)
    unknown = _feed(report.feeds, DATASET, "unknown")
    assert (unknown.dead_lettered, unknown.events, unknown.retracted) == (1, 0, 0)
    assert unknown.volume.status == "no_data"


def test_a_window_without_decisions_has_no_shares_but_keeps_the_feed_status(
    published: Published, hub_env: HubEnv
) -> None:
    feed = _feed(_report(hub_env, since=datetime(2999, 1, 1, tzinfo=UTC)).feeds, DATASET, PARTNER)
    assert feed.events == 0
    assert all(c.share is None for c in feed.completeness)
    assert feed.volume.status == "ok"


def test_late_days_is_configurable(published: Published, hub_env: HubEnv) -> None:
    feed = _feed(_report(hub_env, late_days=100_000).feeds, DATASET, PARTNER)
    assert feed.late == 0


def test_hub_dq_json_prints_the_same_report(published: Published, hub_env: HubEnv) -> None:
    now = datetime.now(UTC)
    result = subprocess.run(
        [sys.executable, "-m", "deploy.cli", "dq", "--json", "--now", now.isoformat()],
        env={**os.environ, **hub_env.env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    with session_scope(hub_env.engine) as session:
        expected = report_json(feed_quality(session, hub_env.register, now))
    assert json.loads(result.stdout) == expected

    table = subprocess.run(
        [sys.executable, "-m", "deploy.cli", "dq", "--dataset", DATASET, "--partner", SILENT],
        env={**os.environ, **hub_env.env, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert table.returncode == 0, table.stderr
    assert f"{DATASET} from {SILENT}: no_data" in table.stdout
    assert PARTNER + ":" not in table.stdout


def test_api_dq_is_for_ig_leads_and_for_partners_own_feeds(published: Published, hub_env: HubEnv) -> None:
    assert hub_env.api_client("eastbourne-csp", "analyst").get("/v1/dq").status_code == 403

    own = hub_env.api_client(PARTNER, "partner")
    response = own.get("/v1/dq")
    assert response.status_code == 200
    feeds = response.json()["feeds"]
    assert feeds and {f["partner"] for f in feeds} == {PARTNER}
    assert own.get("/v1/dq", params={"partner": OTHER}).status_code == 403

    lead = hub_env.api_client("hub", "ig_lead").get("/v1/dq", params={"late_days": 35})
    assert lead.status_code == 200
    body = lead.json()
    partners = {(f["dataset"], f["partner"]): f for f in body["feeds"]}
    assert {(DATASET, PARTNER), (DATASET, OTHER), (DATASET, SILENT)} <= set(partners)
    assert partners[(DATASET, SILENT)]["volume"]["status"] == "no_data"
    with session_scope(hub_env.engine) as session:
        expected = report_json(feed_quality(session, hub_env.register, datetime.now(UTC)))
    assert body["feeds"] == expected["feeds"]

    with hub_env.engine.connect() as conn:
        logged = conn.execute(
            text("SELECT org, role, status FROM access_log WHERE endpoint = '/v1/dq' ORDER BY id")
        ).all()
    assert [tuple(r) for r in logged] == [
        ("eastbourne-csp", "analyst", 403),
        (PARTNER, "partner", 200),
        (PARTNER, "partner", 403),
        ("hub", "ig_lead", 200),
    ]
