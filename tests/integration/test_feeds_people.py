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
from tests.support.open_data import HO_OFFENCES

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
    ),
    Feed(
        "council-asb",
        "eastbourne-council",
        lambda r: r["Case Reference"],
        lambda r: r["Case Status"] == "Deleted",
        lambda r: _month(r["Reported Date Time"]),
        ("--rows", "500", "--district", EASTBOURNE),
    ),
    Feed(
        "marac-cases",
        "east-sussex-marac",
        lambda r: r["Case ID"],
        lambda r: False,
        lambda r: _month(r["Review Date"]),
        ("--rows", "400", "--district", EASTBOURNE, "--district", HASTINGS),
    ),
    Feed(
        "probation-iom",
        "kss-probation",
        lambda r: f"{''.join(r['PNC ID'].split()).upper()}:{_day(r['Cohort Period Start']).isoformat()}",
        lambda r: False,
        lambda r: _month(r["Cohort Period Start"]),
        ("--rows", "500", "--district", EASTBOURNE),
    ),
)


def _rows(path: Path) -> list[Row]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


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


@pytest.fixture(scope="module")
def outcomes(files: dict[str, list[Row]], hub_env: HubEnv) -> dict[str, tuple[dict[Any, tuple[Any, ...]], set[Any]]]:
    """Per feed: its loaded events (event id -> (category, month)) and the ids of its withheld events."""
    return {feed.dataset: hub_env.outcomes(feed.dataset) for feed in FEEDS}


@pytest.fixture(scope="module")
def police_uk(shared_data: Path) -> dict[str, str]:
    return _police_uk_by_offence(shared_data)


def _kept(feed: Feed, files: dict[str, list[Row]]) -> list[Row]:
    return [row for row in files[feed.dataset] if not feed.withdrawn(row)]


PER_FEED = pytest.mark.parametrize("feed", FEEDS, ids=[feed.dataset for feed in FEEDS])


@PER_FEED
def test_every_record_has_its_own_key(feed: Feed, files: dict[str, list[Row]]) -> None:
    kept = _kept(feed, files)
    assert len({_id(feed, row) for row in kept}) == len(kept)


@PER_FEED
def test_every_record_is_loaded_or_withheld(
    feed: Feed,
    files: dict[str, list[Row]],
    outcomes: dict[str, tuple[dict[Any, tuple[Any, ...]], set[Any]]],
) -> None:
    expected = {_id(feed, row) for row in _kept(feed, files)}
    loaded, withheld = outcomes[feed.dataset]
    assert set(loaded) | withheld == expected and not set(loaded) & withheld


@PER_FEED
def test_no_record_is_withheld(feed: Feed, outcomes: dict[str, tuple[dict[Any, tuple[Any, ...]], set[Any]]]) -> None:
    _, withheld = outcomes[feed.dataset]
    assert withheld == set()  # the packaged protocols cover every category of these feeds


@PER_FEED
def test_withdrawn_records_are_never_loaded(
    feed: Feed,
    files: dict[str, list[Row]],
    outcomes: dict[str, tuple[dict[Any, tuple[Any, ...]], set[Any]]],
) -> None:
    loaded, _ = outcomes[feed.dataset]
    assert not {_id(feed, row) for row in files[feed.dataset] if feed.withdrawn(row)} & set(loaded)


@PER_FEED
def test_records_are_loaded_with_the_expected_categories_by_month(
    feed: Feed,
    files: dict[str, list[Row]],
    outcomes: dict[str, tuple[dict[Any, tuple[Any, ...]], set[Any]]],
    police_uk: dict[str, str],
) -> None:
    loaded, _ = outcomes[feed.dataset]
    kept = _kept(feed, files)
    assert Counter(loaded.values()) == Counter((_category(feed, row, police_uk), feed.month(row)) for row in kept)


@pytest.fixture(scope="module")
def domestic_abuse_victims(files: dict[str, list[Row]], hub_env: HubEnv) -> tuple[Counter[Any], Counter[Any]]:
    """Domestic abuse crimes per victim: from the file's names, and from the loaded pseudonyms."""
    rows = [r for r in files["police-records"] if r["Crime Status"] != "Cancelled" and r["Domestic Abuse Flag"] == "Y"]
    expected = Counter(person for person in (_person(r, "Victim") for r in rows) if person)
    found = Counter(p for p, _, attributes in _pseudonyms(hub_env, "police-records", "victim_pseudonym")
                    if attributes["domestic_abuse"])  # fmt: skip
    return expected, found


def test_repeat_victims_of_domestic_abuse_are_counted_from_the_pseudonyms(
    domestic_abuse_victims: tuple[Counter[Any], Counter[Any]],
) -> None:
    expected, found = domestic_abuse_victims
    assert sorted(found.values()) == sorted(expected.values())


def test_there_are_repeat_victims_of_domestic_abuse_to_find(
    domestic_abuse_victims: tuple[Counter[Any], Counter[Any]],
) -> None:
    _, found = domestic_abuse_victims
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


def _repeats(cases: list[tuple[object, date]]) -> int:
    """The NI 32 numerator: cases whose victim was heard at any MARAC in the 12 months before."""
    last: dict[object, date] = {}
    count = 0
    for victim, day in sorted(cases, key=lambda case: case[1]):
        if victim in last and 0 < (day - last[victim]).days <= 365:
            count += 1
        last[victim] = day
    return count


@pytest.fixture(scope="module")
def marac_repeats(files: dict[str, list[Row]], hub_env: HubEnv) -> tuple[int, int]:
    """MARAC repeats within 12 months: from the case list's names, and from the loaded pseudonyms."""
    expected = _repeats([(_person(r, "Victim"), _day(r["Review Date"])) for r in files["marac-cases"]])
    found = _repeats([(p, day) for p, day, _ in _pseudonyms(hub_env, "marac-cases", "victim_pseudonym")])
    return expected, found


def test_marac_repeats_within_12_months_match_the_case_list(marac_repeats: tuple[int, int]) -> None:
    expected, found = marac_repeats
    assert found == expected


def test_the_case_list_has_marac_repeats_to_find(marac_repeats: tuple[int, int], files: dict[str, list[Row]]) -> None:
    expected, _ = marac_repeats
    assert expected >= 0.15 * len(files["marac-cases"])


def test_probation_reoffending_by_cohort_matches_the_export(files: dict[str, list[Row]], hub_env: HubEnv) -> None:
    expected: defaultdict[str, Counter[bool]] = defaultdict(Counter)
    for row in files["probation-iom"]:
        expected[_slug(row["Cohort"])][row["Reoffended"] == "Y"] += 1
    found: defaultdict[str, Counter[bool]] = defaultdict(Counter)
    for category, reoffended in hub_env.query(
        "SELECT category, (attributes ->> 'reoffended')::boolean FROM event WHERE dataset = 'probation-iom'"
    ):
        found[category][reoffended] += 1
    assert found == expected
