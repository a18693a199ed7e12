"""Synthetic IRS-style incident exports of East Sussex Fire and Rescue Service.

Station names and grid references: Home Office fire stations list (openregister/fire-data, Open Government Licence
v3.0); each incident goes to the nearest of these stations. Incident mix and timing follow the published national
patterns: most incidents are false alarms, deliberate secondary fires peak on spring and summer evenings.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta

from producers.feeds.fire_incidents import CAUSE_MOTIVES, COLUMNS, INCIDENT_GROUPS, INCIDENT_TYPES
from producers.generators.base import FeedGenerator, GenerateRequest, PostcodePoint, make_people
from sharing_protocols.datasets.fire_incidents import DATASET

# A few East Sussex stations (name, easting, northing).
STATIONS = (
    ("Eastbourne", 561632, 99965),
    ("Hailsham", 559033, 109314),
    ("Pevensey", 564814, 104903),
    ("Seaford", 549603, 100250),
    ("Newhaven", 544469, 101308),
    ("Lewes", 541636, 110579),
    ("Bexhill", 573838, 107979),
    ("Hastings", 580556, 109818),
    ("Uckfield", 547087, 121042),
    ("Crowborough", 551476, 131182),
)
# Incident type -> (weight, share deliberate, property types).
MIX: dict[str, tuple[int, float, tuple[str, ...]]] = {
    "PRIMARY": (18, 0.25, ("Dwelling - house", "Dwelling - flat", "Car", "Shop", "Shed", "Restaurant")),
    "SECONDARY": (17, 0.6, ("Grassland", "Wheelie bin", "Loose refuse", "Derelict building", "Woodland")),
    "CHIMNEY": (2, 0.0, ("Dwelling - house",)),
    "LATE_CALL": (1, 0.1, ("Shed", "Grassland")),
    "FA_APPARATUS": (30, 0.0, ("Care home", "Hospital", "Office", "Dwelling - flat", "School")),
    "FA_GOOD_INTENT": (15, 0.0, ("Dwelling - house", "Grassland", "Car")),
    "FA_MALICIOUS": (2, 0.0, ("Telephone kiosk", "School", "Dwelling - flat")),
    "SPECIAL_SERVICE": (15, 0.0, ("Road vehicle", "Dwelling - house", "Beach", "Lift")),
}
HOUR_WEIGHTS = (3, 2, 2, 1, 1, 1, 2, 3, 4, 5, 5, 6, 6, 6, 7, 7, 8, 9, 9, 9, 8, 7, 5, 4)
STREETS = ("Grove Road", "Seaside", "Langney Rise", "Willingdon Road", "Terminus Road", "Victoria Drive")
MONTH_WEIGHTS = (6, 6, 9, 11, 11, 10, 10, 10, 8, 7, 6, 6)  # deliberate secondary fires by month


def _station(point: PostcodePoint) -> str:
    name, _, _ = min(STATIONS, key=lambda s: (s[1] - point.easting) ** 2 + (s[2] - point.northing) ** 2)
    return f"{name} Fire Station"


def _call(request: GenerateRequest, rng: random.Random, seasonal: bool) -> datetime:
    while True:
        moment = request.moment(rng)
        if not seasonal or rng.random() * max(MONTH_WEIGHTS) < MONTH_WEIGHTS[moment.month - 1]:
            break
    hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
    return datetime.combine(moment.date(), datetime.min.time()) + timedelta(hours=hour, minutes=rng.randrange(60))


def rows(request: GenerateRequest) -> Iterator[dict[str, str]]:
    """`request.rows` incidents; about one in fifty has no grid reference."""
    rng = request.rng()
    callers = make_people(rng, max(1, request.rows // 2))
    types = list(MIX)
    for number in range(request.rows):
        kind = rng.choices(types, weights=[MIX[t][0] for t in types])[0]
        _, deliberate, properties = MIX[kind]
        group = INCIDENT_TYPES[kind][0]
        motive = ("DELIBERATE" if rng.random() < deliberate else "ACCIDENTAL") if group == "FIRE" else ""
        called = _call(request, rng, kind == "SECONDARY" and motive == "DELIBERATE")
        point = rng.choice(request.postcodes)
        located = rng.random() >= 0.02
        caller = rng.choice(callers)
        yield {
            "Incident Number": f"ES{called.year}{request.seed:02d}{number + 1:06d}",
            "Call Date": called.date().isoformat(),
            "Call Time": called.strftime("%H:%M:%S"),
            "Incident Group": INCIDENT_GROUPS[group],
            "Incident Type": INCIDENT_TYPES[kind][1],
            "Cause Motive": CAUSE_MOTIVES[motive] if motive else "",
            "Property Type": rng.choice(properties),
            "Easting": str(point.easting + rng.randrange(-25, 26)) if located else "",
            "Northing": str(point.northing + rng.randrange(-25, 26)) if located else "",
            "Station Ground": _station(point),
            "Casualties": str(rng.choices((0, 1, 2), weights=(95, 4, 1))[0]),
            "Address": f"{rng.randrange(1, 150)} {rng.choice(STREETS)}, {point.postcode}",
            "Caller Name": f"{caller.forename} {caller.surname}",
            "Caller Telephone": caller.phone,
        }


GENERATOR = FeedGenerator(
    dataset=DATASET,
    columns=COLUMNS,
    rows=rows,
    identifier_columns=("Address", "Caller Name", "Caller Telephone"),
)
