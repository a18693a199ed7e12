"""Synthetic ISTV A&E extracts (CSV or XML): assault attendances, mostly young men on weekend nights.

The national ASSAULT METHOD and ASSAULT LOCATION TYPE code lists are not available to the project, so the codes
written here come from TEST_CODES, a clearly labelled test list ("T01".."T05", "test code 1"...); tests configure
it with `write_test_code_lists`. It must never be mistaken for, or loaded as, the national lists.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from xml.etree.ElementTree import Element, ElementTree, SubElement

from producers.feeds.istv_ae import COLUMNS, LOCATION_TYPE_LIST, METHOD_LIST, XML_RECORD
from producers.generators.base import FeedGenerator, GenerateRequest, PostcodePoint, make_people
from sharing_protocols.datasets.istv_ae import DATASET

SITE_CODE = "RXC01"
XML_ROOT = "IstvSubmission"
TEST_CODES: dict[str, str] = {f"T{n:02d}": f"test code {n} (not a national code)" for n in range(1, 6)}

# Relative weight of an assault by hour of day (0-23) and weekday (Monday = 0): the night-time economy peak.
HOUR_WEIGHTS = (9, 8, 7, 5, 3, 2, 1, 1, 1, 2, 2, 3, 3, 3, 3, 4, 4, 5, 5, 6, 7, 8, 10, 10)
WEEKDAY_WEIGHTS = (5, 5, 6, 7, 10, 14, 11)

METHOD_NOTES = (
    "punched in the face",
    "kicked while on the ground",
    "hit with a bottle",
    "headbutted by a stranger",
    "stabbed with a knife",
    "pushed over and hit head on the pavement",
    "glassed in the face",
    "assaulted by partner at home",
    "slapped and punched by a group of youths",
    "hit with a metal bar",
)
LOCATION_NOTES = (
    "outside the pub",
    "in the nightclub",
    "at home",
    "at the bus station",
    "on the seafront near the pier",
    "in the town centre",
    "in the car park behind the shops",
    "at a house party",
    "outside the takeaway",
    "in the park",
)


def write_test_code_lists(directory: Path) -> None:
    """Write TEST_CODES as both ISTV code lists into `directory` (the layout `--code-lists` reads)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in (METHOD_LIST, LOCATION_TYPE_LIST):
        with (directory / f"{name}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["code", "label"])
            writer.writerows(TEST_CODES.items())


def _assault_time(request: GenerateRequest, rng: random.Random) -> datetime:
    while True:
        day = request.moment(rng).date()
        if rng.random() * max(WEEKDAY_WEIGHTS) < WEEKDAY_WEIGHTS[day.weekday()]:
            break
    hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
    return datetime.combine(day, datetime.min.time()) + timedelta(hours=hour, minutes=rng.randrange(60))


def _location_note(rng: random.Random, point: PostcodePoint) -> str:
    note = rng.choice(LOCATION_NOTES)
    roll = rng.random()
    if roll < 0.08:
        return f"{note} near {point.postcode}"  # a postcode in the text: the location, then scrubbed from the text
    if roll < 0.12:
        return f"{note}, friend on 07700 900{rng.randrange(1000):03d}"  # a phone number the scrubber must remove
    return note


def rows(request: GenerateRequest) -> Iterator[dict[str, str]]:
    """`request.rows` attendances; a third without an incident postcode (some of those have one in the text)."""
    rng = request.rng()
    people = make_people(rng, max(1, request.rows * 9 // 10), born_from=date(1950, 1, 1), years=58)
    for number in range(request.rows):
        person = rng.choice(people)
        assaulted = _assault_time(request, rng)
        arrived = assaulted + timedelta(minutes=rng.randrange(20, 600))
        point = rng.choice(request.postcodes)
        born = min(person.born, assaulted.date() - timedelta(days=365 * 12))
        known_time = rng.random() < 0.8
        yield {
            "ReportingPeriod": f"{arrived.year}-{arrived.month:02d}",
            "SiteCode": SITE_CODE,
            "AttendanceId": f"ED{request.seed:03d}{number + 1:07d}",
            "ArrivalDate": arrived.date().isoformat(),
            "ArrivalTime": arrived.strftime("%H:%M"),
            "AssaultDate": assaulted.date().isoformat(),
            "AssaultTime": assaulted.strftime("%H:%M") if known_time else "",
            "AssaultMethod": rng.choices(list(TEST_CODES), weights=(40, 20, 15, 15, 10))[0],
            "AssaultLocationType": rng.choices(list(TEST_CODES), weights=(35, 25, 20, 15, 5))[0],
            "AssaultMethodDescription": rng.choice(METHOD_NOTES),
            "AssaultLocationDescription": _location_note(rng, point),
            "IncidentPostcode": point.postcode if rng.random() < 0.65 else "",
            "DateOfBirth": born.isoformat(),
            "Sex": rng.choices(("1", "2", "9", "X"), weights=(70, 28, 1, 1))[0],
            "NhsNumber": person.nhs_number,
        }


def write_xml(path: Path, records: Sequence[dict[str, str]], columns: tuple[str, ...]) -> None:
    """Records as an XML extract: <IstvSubmission><Attendance><ReportingPeriod>...</Attendance>..."""
    root = Element(XML_ROOT)
    for record in records:
        element = SubElement(root, XML_RECORD)
        for name in (*columns, *(key for key in record if key not in columns)):
            SubElement(element, name).text = record.get(name, "")
    ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


GENERATOR = FeedGenerator(
    dataset=DATASET,
    columns=COLUMNS,
    rows=rows,
    identifier_columns=("DateOfBirth", "NhsNumber"),
    free_text_columns=("AssaultMethodDescription", "AssaultLocationDescription"),
    write=write_xml,
)
