"""Field-level retention end to end: police records loaded under the packaged protocols keep `victim_pseudonym`
and `hour` (granted only by repeat-victimisation-counts, 13 months) until that clause's time passes, and the rest
of each event (granted by police-records-to-csp, 24 months) until its own; `hub retention run --today` removes
each and the retention log records both.

The dates are computed here from the packaged protocols' retention months and the day the worker loaded the
events, not read from the hub.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from sharing_protocols.periods import shift_months
from tests.support.hub import HubEnv, Worker, publish_generated, run_all, run_retention

pytestmark = pytest.mark.integration

PROTOCOLS = Path(__file__).resolve().parents[2] / "sharing_protocols" / "protocols"
KEYS = {"HUB_LINKAGE_KEY_PERSON": "p" * 48, "HUB_LINKAGE_KEY_RECORD_IDS": "r" * 48}
SHORT = "repeat-victimisation-counts@1#police-repeat-victim-counts"
LONG = "police-records-to-csp@1#ward-day-records"
EASTBOURNE = "E07000061"  # inside the East Sussex CSPs' scope under the packaged protocols
_FILES: list[Path] = []  # the published file, for the replay


def _months(name: str) -> int:
    document = yaml.safe_load((PROTOCOLS / f"{name}.yaml").read_text(encoding="utf-8"))
    return int(document["retention"]["months"])


@pytest.fixture(scope="module")
def loaded(hub_env: HubEnv, worker: Worker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[date]:
    """Generated police records published and loaded; yields the day they were loaded (the decision day)."""
    path = tmp_path_factory.mktemp("records") / "police-records.csv"
    day = publish_generated(hub_env, worker, path, 11, KEYS, EASTBOURNE)
    _FILES.append(path)
    yield day


def _events(hub_env: HubEnv) -> dict[Any, tuple[Any, ...]]:
    return {
        r[0]: r[1:]
        for r in hub_env.query(
            "SELECT event_id, attributes, category, ward_code, district_code, period_start, period_end, "
            "temporal_precision, protocols, location_status FROM event WHERE dataset = 'police-records'"
        )
    }


def test_short_lived_fields_go_after_their_clause_and_the_event_after_the_longest(
    hub_env: HubEnv, worker: Worker, loaded: date
) -> None:
    short_until = shift_months(loaded, _months("repeat-victimisation-counts"))
    long_until = shift_months(loaded, _months("police-records-to-csp"))
    assert short_until < long_until
    before = _events(hub_env)
    assert len(before) > 100
    with_pseudonym = sum(1 for row in before.values() if "victim_pseudonym" in row[0])
    with_hour = sum(1 for row in before.values() if "hour" in row[0])
    assert with_pseudonym > 50 and with_hour > 50  # the fields to remove are there to begin with
    assert all(sorted(row[7]) == sorted([LONG, SHORT]) for row in before.values() if row[7])

    # On the short clause's last day nothing goes.
    assert "removed" not in run_retention(hub_env, short_until)
    assert _events(hub_env) == before

    # The day after: the pseudonym and the hour are gone from every event; all else stays.
    output = run_retention(hub_env, short_until + timedelta(days=1))
    assert f"removed victim_pseudonym from {with_pseudonym} police-records events" in output
    after = _events(hub_env)
    assert after.keys() == before.keys()
    for event_id, (attributes, *rest) in after.items():
        was_attributes, *was_rest = before[event_id]
        assert "victim_pseudonym" not in attributes and "hour" not in attributes
        assert attributes == {k: v for k, v in was_attributes.items() if k not in ("victim_pseudonym", "hour")}
        assert rest[:6] == was_rest[:6]  # category, ward, district, day period, precision: the long clause's
        assert rest[6] == [LONG] and rest[7] == was_rest[7]
    logged = dict(
        hub_env.query(
            "SELECT field, deleted FROM retention_run WHERE today = :t AND dataset = 'police-records'",
            t=short_until + timedelta(days=1),
        )
    )
    assert logged == {"victim_pseudonym": with_pseudonym, "hour": with_hour, f"clause:{SHORT}": len(before)}
    # The counts the API reads follow: every event is now counted under the long clause only.
    [(counted,)] = hub_env.query(
        "SELECT coalesce(sum(events), 0) FROM event_count WHERE dataset = 'police-records' AND protocols = :p",
        p=[LONG],
    )
    assert counted == len(before)
    assert hub_env.query("SELECT coalesce(sum(events), 0) FROM event_count WHERE :s = ANY(protocols)", s=SHORT) == [
        (0,)
    ]

    # Re-publishing the same records does not bring the removed fields back (nor the clause, nor its counts).
    run_all(
        [[sys.executable, "-m", "deploy.cli", "publish", "police-records", str(_FILES[0])]],
        {**os.environ, **hub_env.env, **KEYS},
    )
    worker.wait_until_loaded()
    assert _events(hub_env) == after

    # The day the long clause ends nothing more goes; the day after, the events go, and the log says so.
    assert "deleted 0" in run_retention(hub_env, long_until)
    assert len(_events(hub_env)) == len(before)
    output = run_retention(hub_env, long_until + timedelta(days=1))
    assert f"deleted {len(before)} police-records events" in output
    assert _events(hub_env) == {}
    assert hub_env.query(
        "SELECT deleted FROM retention_run WHERE today = :t AND dataset = 'police-records' AND field IS NULL",
        t=long_until + timedelta(days=1),
    ) == [(len(before),)]
    with pytest.raises(DBAPIError, match="append-only"), hub_env.engine.begin() as conn:
        conn.execute(text("DELETE FROM retention_run"))
