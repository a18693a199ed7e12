"""The data every web page reads, loaded once into a test hub in `hub demo`'s order, only smaller.

Reference data first (LSOAs and the area lookups beside the hub's wards, postcodes, population for rates, the
packaged indicators for the scorecard), then a worker started after it loads the real Sussex police.uk file and the
demo's generated partner feeds (police records, council ASB, MARAC, probation IOM, fire incidents) over the demo's
districts and months, with fewer rows.
"""

from __future__ import annotations

from pathlib import Path

from deploy.cli.demo import GENERATED_DISTRICTS, GENERATED_FEEDS, GENERATED_MONTHS, GENERATED_START
from deploy.indicator_files import configured_indicators
from tests.support.hub import HubEnv, generated_feeds_loaded
from tests.support.open_data import CODEPOINT, SUSSEX_STREET
from tests.support.reference_data import ALL_LOOKUPS, LSOAS_2021_AREAS, load_reference
from warehouse.reference.indicator_store import load_indicators
from warehouse.schema.db import session_scope

# The demo's generated feeds at a fifth of its rows: enough people for repeats and cohorts, quick to load.
ROWS_DIVISOR = 5
# Test linkage secrets (HUB_LINKAGE_KEY_*), as the integration tests use.
LINKAGE_KEYS = {"HUB_LINKAGE_KEY_PERSON": "p" * 48, "HUB_LINKAGE_KEY_RECORD_IDS": "r" * 48}


def generated_options() -> dict[str, list[str]]:
    """`hub generate` options per generated demo feed: the demo's districts, first month and span, fewer rows."""
    span = ["--start", GENERATED_START.strftime("%Y-%m"), "--months", str(GENERATED_MONTHS)]
    districts = [option for code in GENERATED_DISTRICTS for option in ("--district", code)]
    return {
        feed: ["--rows", str(rows // ROWS_DIVISOR), "--seed", "2026", *span, *districts]
        for feed, rows in GENERATED_FEEDS
    }


def load_web_data(hub: HubEnv, shared_data: Path, directory: Path) -> None:
    """Load into `hub` the reference data, the indicators, the Sussex police.uk file and the generated feeds
    (written under `directory`); returns once the worker has loaded every event (it is then stopped)."""
    load_reference(
        hub.database_url,
        areas=[LSOAS_2021_AREAS],
        lookups=ALL_LOOKUPS,
        postcodes=CODEPOINT,
        population=True,
        data=shared_data,
    )
    with session_scope(hub.engine) as session:
        load_indicators(session, configured_indicators())
    street = [("police-uk-street", shared_data / SUSSEX_STREET)]
    with generated_feeds_loaded(hub, directory, generated_options(), LINKAGE_KEYS, street):
        pass
