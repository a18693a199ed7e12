"""The people-centred feeds end to end: police records, council ASB cases, MARAC case lists and probation IOM
cohorts generated with `hub generate` (one seed, so one synthetic population), published with `hub publish` under
the "person" linkage key, and loaded by the worker under the packaged protocols.

Every expectation is computed here from the generated files with `csv`: event ids (keyed by the record-id secret
over each export's own reference), withdrawn records (cancelled crimes, deleted cases), categories by month, and
the people behind the pseudonyms (repeat victims, victims known to police and council, MARAC repeats).
"""

from __future__ import annotations

import csv
import os
import sys
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from sharing_protocols.envelope import keyed_event_id
from tests.support.hub import HubEnv, Worker, run_all
from tests.support.open_data import CODEPOINT, HO_OFFENCES
from tests.support.placement import Place, placer
from tests.support.reference_data import WARD_LOOKUPS, load_reference

pytestmark = pytest.mark.integration

RECORD_KEY = "r" * 48
KEYS = {"HUB_LINKAGE_KEY_PERSON": "p" * 48, "HUB_LINKAGE_KEY_RECORD_IDS": RECORD_KEY}
EASTBOURNE, HASTINGS = "E07000061", "E07000062"
Row = dict[str, str]


def _day(value: str) -> date:
    return datetime.strptime(value[:10], "%d/%m/%Y").date()


def _month(value: str) -> date:
    return _day(value).replace(day=1)


def _slug(value: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in value.lower().replace("'", "")).split())


def _police_uk_by_offence(shared_data: Path) -> dict[str, str]:
    """Home Office offence code -> police.uk category, from the ONS classification file's subgroups."""
    subgroup = {
        "Arson": "criminal-damage-arson",
        "Criminal damage": "criminal-damage-arson",
        "Bicycle theft": "bicycle-theft",
        "Domestic burglary": "burglary",
        "Non-domestic burglary": "burglary",
        "Other theft offences": "other-theft",
        "Shoplifting": "shoplifting",
        "Theft from a vehicle": "vehicle-crime",
        "Theft of a motor vehicle": "vehicle-crime",
        "Vehicle interference": "vehicle-crime",
        "Theft from the person": "theft-from-the-person",
    }
    group = {
        "Violence against the person": "violent-crime",
        "Sexual offences": "violent-crime",
        "Robbery": "robbery",
        "Drug offences": "drugs",
        "Possession of weapons offences": "possession-of-weapons",
        "Public order offences": "public-order",
    }
    with (shared_data / HO_OFFENCES).open(encoding="utf-8") as handle:
        return {
            row["ho_offence_code"]: subgroup.get(row["offence_subgroup"])
            or group.get(row["offence_group"], "other-crime")
            for row in csv.DictReader(handle)
        }


def _person(row: Row, prefix: str) -> tuple[str, str, str] | None:
    surname, forename, born = (row[f"{prefix} {c}"] for c in ("Surname", "Forename", "DOB"))
    return (surname.lower(), forename.lower(), born) if surname and forename and born else None


@dataclass(frozen=True)
class Feed:
    """One feed of this module: how its file is generated and how the test reads its rows independently."""

    dataset: str
    partner: str
    key: Callable[[Row], str]
    withdrawn: Callable[[Row], bool]
    month: Callable[[Row], date]
    generate: tuple[str, ...]
    place: Callable[[Row], Place]  # the row's grid reference, else its postcode ("" if none)


def _grid_or_postcode(row: Row) -> Place:
    return (row["Easting"], row["Northing"]) if row["Easting"] and row["Northing"] else row["Postcode"]


FEEDS = (
    Feed(
        "police-records",
        "sussex-police",
        lambda r: (
            f"crime:{r['Crime Reference']}" if r["Record Type"] == "Crime" else f"incident:{r['Incident Reference']}"
        ),
        lambda r: r["Crime Status"] == "Cancelled",
        lambda r: _month(r["Occurred From"]),
        ("--rows", "800", "--district", EASTBOURNE),
        _grid_or_postcode,
    ),
    Feed(
        "council-asb",
        "eastbourne-council",
        lambda r: r["Case Reference"],
        lambda r: r["Case Status"] == "Deleted",
        lambda r: _month(r["Reported Date Time"]),
        ("--rows", "500", "--district", EASTBOURNE),
        _grid_or_postcode,
    ),
    Feed(
        "marac-cases",
        "east-sussex-marac",
        lambda r: r["Case ID"],
        lambda r: False,
        lambda r: _month(r["Review Date"]),
        ("--rows", "400", "--district", EASTBOURNE, "--district", HASTINGS),
        lambda r: r["Victim Postcode"],
    ),
    Feed(
        "probation-iom",
        "kss-probation",
        lambda r: f"{''.join(r['PNC ID'].split()).upper()}:{_day(r['Cohort Period Start']).isoformat()}",
        lambda r: False,
        lambda r: _month(r["Cohort Period Start"]),
        ("--rows", "500", "--district", EASTBOURNE),
        lambda r: r["Home Postcode"],
    ),
)
FEED = {feed.dataset: feed for feed in FEEDS}
# The areas of the recipients of every clause that grants these datasets (east-sussex-csp and eastbourne-csp in the
# packaged protocols): the East Sussex districts.
EAST_SUSSEX = {"E07000061", "E07000062", "E07000063", "E07000064", "E07000065"}


@pytest.fixture(scope="module")
def placed(shared_data: Path) -> Callable[[Feed, Row], bool]:
    """Whether a row's place lies in an East Sussex ward (computed with shapely from the shared files)."""
    inside = placer(shared_data, EAST_SUSSEX)
    return lambda feed, row: inside(feed.place(row))


def _rows(path: Path) -> list[Row]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def worker(hub_env: HubEnv, shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """The worker, started after the postcodes the generator draws from and the ward lookups are loaded: the
    packaged CSP clauses are scoped to their recipients' areas, so an event is released only where it is placed."""
    load_reference(hub_env.database_url, lookups=WARD_LOOKUPS, postcodes=CODEPOINT, data=shared_data)
    running = Worker(hub_env, tmp_path_factory.mktemp("worker") / "worker.log")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def files(hub_env: HubEnv, worker: Worker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, list[Row]]]:
    """Each feed's generated rows, published and loaded."""
    tmp = tmp_path_factory.mktemp("people")
    env = {**os.environ, **hub_env.env, **KEYS}
    cli = [sys.executable, "-m", "deploy.cli"]
    paths = {feed.dataset: tmp / f"{feed.dataset}.csv" for feed in FEEDS}
    run_all([[*cli, "generate", f.dataset, str(paths[f.dataset]), "--seed", "5", *f.generate] for f in FEEDS], env)
    run_all([[*cli, "publish", f.dataset, str(paths[f.dataset])] for f in FEEDS], env)
    worker.wait_until_loaded()
    yield {dataset: _rows(path) for dataset, path in paths.items()}


def _id(feed: Feed, row: Row) -> uuid.UUID:
    return keyed_event_id(RECORD_KEY.encode(), feed.dataset, feed.partner, feed.key(row))


def _category(feed: Feed, row: Row, police_uk: dict[str, str]) -> str:
    if feed.dataset == "police-records":
        code = row["Home Office Offence Code"]
        return police_uk[code] if code else f"incident-{_slug(row['Incident Type'])}"
    if feed.dataset == "council-asb":
        return f"asb-{row['NSIR Category'].lower()}"
    if feed.dataset == "marac-cases":
        return "information-only" if row["Information Only"] == "Y" else "referral"
    return _slug(row["Cohort"])


def _pseudonyms(hub_env: HubEnv, dataset: str, field: str) -> list[tuple[str, date, dict[str, Any]]]:
    return [
        (r[0], r[1], r[2])
        for r in hub_env.query(
            "SELECT attributes ->> :f, period_start, attributes FROM event WHERE dataset = :d AND attributes ? :f",
            f=field,
            d=dataset,
        )
        if r[0] is not None
    ]


@pytest.mark.parametrize("feed", FEEDS, ids=[feed.dataset for feed in FEEDS])
def test_every_record_is_loaded_or_withheld_with_the_expected_categories_by_month(
    feed: Feed, files: dict[str, list[Row]], hub_env: HubEnv, shared_data: Path, placed: Callable[[Feed, Row], bool]
) -> None:
    rows = files[feed.dataset]
    kept = [row for row in rows if not feed.withdrawn(row)]
    expected = {_id(feed, row) for row in kept}
    assert len(expected) == len(kept)  # every record has its own key
    loaded, withheld = hub_env.outcomes(feed.dataset)
    assert set(loaded) | withheld == expected and not set(loaded) & withheld
    # Every clause granting these datasets to a CSP is scoped to its recipients' areas (`scope: {of: recipient}`):
    # a record that gives no place lies in no recipient's area and is withheld `outside_scope`; the rest are loaded.
    unplaced = {_id(feed, row) for row in kept if not placed(feed, row)}
    assert withheld == unplaced
    codes = hub_env.query(
        "SELECT DISTINCT code FROM decision WHERE dataset = :d AND outcome = 'withheld'", d=feed.dataset
    )
    assert codes == ([("outside_scope",)] if unplaced else [])
    assert not {_id(feed, row) for row in rows if feed.withdrawn(row)} & set(loaded)  # withdrawn: never loaded
    police_uk = _police_uk_by_offence(shared_data)
    inside = [row for row in kept if placed(feed, row)]
    assert Counter(loaded.values()) == Counter((_category(feed, row, police_uk), feed.month(row)) for row in inside)


def test_repeat_victims_of_domestic_abuse_are_counted_from_the_pseudonyms(
    files: dict[str, list[Row]], hub_env: HubEnv
) -> None:
    rows = [r for r in files["police-records"] if r["Crime Status"] != "Cancelled" and r["Domestic Abuse Flag"] == "Y"]
    expected = Counter(person for person in (_person(r, "Victim") for r in rows) if person)
    found = Counter(p for p, _, attributes in _pseudonyms(hub_env, "police-records", "victim_pseudonym")
                    if attributes["domestic_abuse"])  # fmt: skip
    assert sorted(found.values()) == sorted(expected.values())
    assert sum(1 for n in found.values() if n > 1) >= 5  # there are repeat victims to find


def test_victims_known_to_police_and_council_link_through_the_person_key(
    files: dict[str, list[Row]], hub_env: HubEnv
) -> None:
    police = {_person(r, "Victim") for r in files["police-records"] if r["Crime Status"] != "Cancelled"}
    council = {_person(r, "Victim") for r in files["council-asb"] if r["Case Status"] != "Deleted"}
    expected = (police & council) - {None}
    linked = {p for p, _, _ in _pseudonyms(hub_env, "police-records", "victim_pseudonym")} & {
        p for p, _, _ in _pseudonyms(hub_env, "council-asb", "victim_pseudonym")
    }
    assert len(linked) == len(expected) >= 5


def test_marac_repeats_within_12_months_match_the_case_list(
    files: dict[str, list[Row]], hub_env: HubEnv, placed: Callable[[Feed, Row], bool]
) -> None:
    """The NI 32 numerator: cases whose victim was heard at any MARAC in the 12 months before."""

    def repeats(cases: list[tuple[object, date]]) -> int:
        last: dict[object, date] = {}
        count = 0
        for victim, day in sorted(cases, key=lambda case: case[1]):
            if victim in last and 0 < (day - last[victim]).days <= 365:
                count += 1
            last[victim] = day
        return count

    inside = [r for r in files["marac-cases"] if placed(FEED["marac-cases"], r)]  # the others are withheld
    expected = repeats([(_person(r, "Victim"), _day(r["Review Date"])) for r in inside])
    found = repeats([(p, day) for p, day, _ in _pseudonyms(hub_env, "marac-cases", "victim_pseudonym")])
    assert found == expected and expected >= 0.15 * len(files["marac-cases"])


def test_probation_reoffending_by_cohort_matches_the_export(
    files: dict[str, list[Row]], hub_env: HubEnv, placed: Callable[[Feed, Row], bool]
) -> None:
    expected: defaultdict[str, Counter[bool]] = defaultdict(Counter)
    for row in files["probation-iom"]:
        if not placed(FEED["probation-iom"], row):
            continue  # withheld: outside every recipient's area
        expected[_slug(row["Cohort"])][row["Reoffended"] == "Y"] += 1
    found: defaultdict[str, Counter[bool]] = defaultdict(Counter)
    for category, reoffended in hub_env.query(
        "SELECT category, (attributes ->> 'reoffended')::boolean FROM event WHERE dataset = 'probation-iom'"
    ):
        found[category][reoffended] += 1
    assert found == expected
