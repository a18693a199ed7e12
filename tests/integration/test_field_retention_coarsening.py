"""Field retention coarsens place and period: `hub retention run` after a short clause's time keeps what a longer
clause still holds and nothing finer.

A protocol kept 30 days grants police records at point and at ward, by day (two clauses, one per recipient); one
kept 24 months grants them at district, by month. The dates are computed here from these documents and the day the
worker loaded the events, not read from the hub.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from sharing_protocols.periods import shift_months
from tests.support.hub import HubEnv, Worker, publish_generated, run_retention

pytestmark = pytest.mark.integration

KEYS = {"HUB_LINKAGE_KEY_PERSON": "p" * 48, "HUB_LINKAGE_KEY_RECORD_IDS": "r" * 48}
SHORT_DAYS, LONG_MONTHS = 30, 24
SHORT_POINT, SHORT_WARD = "fine-records@1#point-day", "fine-records@1#ward-day"
LONG = "district-months@1#district-month"
FIELDS = "[category, period, location, offence_code]"


def _clause(clause_id: str, recipient: str, where: str, when: str) -> str:
    return f"""  - id: {clause_id}
    recipients: [{recipient}]
    datasets: [police-records]
    fields: {FIELDS}
    spatial_precision: {where}
    temporal_precision: {when}
    output: record_level
"""


def _protocol(protocol_id: str, retention: str, clauses: str) -> str:
    return f"""id: {protocol_id}
version: 1
title: Test protocol {protocol_id}
status: active
valid_from: 2020-01-01
review_due: 2099-12-31
data_owners:
  - id: sussex-police
    name: Sussex Police
    datasets: [police-records]
recipients:
  - id: csp-a
    name: CSP A
    kind: csp
  - id: csp-b
    name: CSP B
    kind: csp
purposes: [Testing field retention]
legal_gateways:
  - ref: cda-1998-s115
datasets: [police-records]
retention: {{{retention}}}
signatories:
  - role: Senior Information Risk Owner
    organisation: sussex-police
clauses:
{clauses}"""


@pytest.fixture(scope="module")
def protocol_paths(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("protocols")
    (folder / "fine-records.yaml").write_text(
        _protocol(
            "fine-records",
            f"days: {SHORT_DAYS}",
            _clause("point-day", "csp-a", "point", "day") + _clause("ward-day", "csp-b", "ward", "day"),
        )
    )
    (folder / "district-months.yaml").write_text(
        _protocol("district-months", f"months: {LONG_MONTHS}", _clause("district-month", "csp-a", "district", "month"))
    )
    return [folder]


@pytest.fixture(scope="module")
def loaded(hub_env: HubEnv, worker: Worker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[date]:
    """Generated police records published and loaded; yields the day they were loaded (the decision day)."""
    path = tmp_path_factory.mktemp("records") / "police-records.csv"
    day = publish_generated(hub_env, worker, path, 23, KEYS)
    yield day


COLUMNS = (
    "geom IS NOT NULL, lsoa_code, ward_code, ward_vintage, district_code, csp_code, county_code, pfa_code, "
    "location_status, spatial_precision, period_start, period_end, period_precision, temporal_precision, "
    "period_label, category, attributes, protocols"
)


def _events(hub_env: HubEnv) -> dict[Any, dict[str, Any]]:
    names = [c.strip().split()[0] for c in COLUMNS.split(",")]
    names[0] = "has_point"
    return {
        row[0]: dict(zip(names, row[1:], strict=True))
        for row in hub_env.query(f"SELECT event_id, {COLUMNS} FROM event WHERE dataset = 'police-records'")
    }


COUNT_KEY = (
    "dataset, period_month, category, ward_code, ward_vintage, district_code, csp_code, county_code, pfa_code, "
    "location_status, protocols"
)


def _counts_match_the_events(hub_env: HubEnv) -> None:
    kept = hub_env.query(f"SELECT {COUNT_KEY}, events, total FROM event_count WHERE events > 0 ORDER BY {COUNT_KEY}")
    recount = hub_env.query(
        f"SELECT {COUNT_KEY}, count(*), sum(weight) FROM event GROUP BY {COUNT_KEY} ORDER BY {COUNT_KEY}"
    )
    assert kept == recount


def _month(day: date) -> tuple[date, date]:
    return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])


def test_after_the_short_clause_place_and_period_are_coarsened_to_the_long_one(
    hub_env: HubEnv, worker: Worker, loaded: date
) -> None:
    short_until = loaded + timedelta(days=SHORT_DAYS)
    assert short_until < shift_months(loaded, LONG_MONTHS)
    before = _events(hub_env)
    assert len(before) > 100
    located = [e for e in before.values() if e["location_status"] == "located"]
    # What is to go is there to begin with: points and wards, days; and what is to stay: districts. (The test hub
    # loads wards only, so no event has an LSOA here; any would go with the point.)
    assert sum(e["has_point"] for e in before.values()) > 100
    assert len(located) > 100 and all(e["district_code"] for e in located)
    assert all(e["temporal_precision"] == "day" and e["period_precision"] == "day" for e in before.values())
    assert all(sorted(e["protocols"]) == sorted([LONG, SHORT_POINT, SHORT_WARD]) for e in before.values())
    _counts_match_the_events(hub_env)

    # On the short clause's last day nothing goes.
    assert "removed" not in run_retention(hub_env, short_until)
    assert _events(hub_env) == before

    run_retention(hub_env, short_until + timedelta(days=1))
    after = _events(hub_env)
    assert after.keys() == before.keys()
    for event_id, event in after.items():
        was = before[event_id]
        first, last = _month(was["period_start"])
        assert _month(was["period_end"]) == (first, last)  # a police record is one day
        assert event == {
            **was,
            "has_point": False,
            "lsoa_code": None,
            "ward_code": None,
            "ward_vintage": None,
            "location_status": "location_not_released"
            if was["location_status"] == "located"
            else was["location_status"],
            "spatial_precision": "district" if was["district_code"] else None,
            "period_start": first,
            "period_end": last,
            "period_precision": "month",
            "temporal_precision": "month",
            "period_label": f"{first:%Y-%m}",
            "protocols": [LONG],
        }, event_id
    _counts_match_the_events(hub_env)
    assert hub_env.query(
        "SELECT coalesce(sum(events), 0) FROM event_count WHERE dataset = 'police-records' AND ward_code IS NOT NULL"
    ) == [(0,)]

    logged = dict(
        hub_env.query(
            "SELECT field, deleted FROM retention_run WHERE today = :t AND dataset = 'police-records'",
            t=short_until + timedelta(days=1),
        )
    )
    expected = {
        "location:point": sum(e["has_point"] for e in before.values()),
        "location:lsoa": sum(e["lsoa_code"] is not None for e in before.values()),
        "location:ward": sum(e["ward_code"] is not None for e in before.values()),
        "period:day": len(before),
        f"clause:{SHORT_POINT}": len(before),
        f"clause:{SHORT_WARD}": len(before),
    }
    assert logged == {part: n for part, n in expected.items() if n}
