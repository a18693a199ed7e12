"""Synthetic council ASB case exports: mostly nuisance, a quarter personal, some environmental cases.

Victims of personal ASB come largely from the same at-risk people as the police feed's repeat victims (same
seed, same people), so linkage across the two feeds finds them. Reports arrive mostly in the day and evening;
about 3% of cases have been deleted since (withdrawn when published).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta

from producers.feeds.council_asb import COLUMNS, IDENTIFIERS, PRE_2011_INCIDENT_TYPES
from producers.generators.base import FeedGenerator, GenerateRequest, Person
from producers.generators.shared_people import (
    AT_RISK,
    DAY_HOURS,
    hour,
    population,
    repeat_weights,
    uk_date,
    uk_datetime,
    with_identifiers,
)
from sharing_protocols.datasets.council_asb import DATASET

EXTRA_COLUMNS = ("Complainant Phone", "Complainant Email", "Complainant Address")
CATEGORY_WEIGHTS = {"Nuisance": 58, "Personal": 27, "Environmental": 15}
# NSIR category -> (pre-2011 incident types that fit it, free-text types a case officer might type instead).
TYPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Personal": (
        (PRE_2011_INCIDENT_TYPES[5], PRE_2011_INCIDENT_TYPES[9], PRE_2011_INCIDENT_TYPES[10]),
        ("neighbour harassment", "verbal abuse from youths", "threats from neighbour"),
    ),
    "Nuisance": (
        (
            PRE_2011_INCIDENT_TYPES[6],
            PRE_2011_INCIDENT_TYPES[10],
            PRE_2011_INCIDENT_TYPES[11],
            PRE_2011_INCIDENT_TYPES[14],
            PRE_2011_INCIDENT_TYPES[2],
            PRE_2011_INCIDENT_TYPES[4],
        ),
        ("noisy party", "drug dealing", "youths gathering"),
    ),
    "Environmental": (
        (PRE_2011_INCIDENT_TYPES[0], PRE_2011_INCIDENT_TYPES[8], PRE_2011_INCIDENT_TYPES[1]),
        ("fly tipping", "graffiti", "litter and needles"),
    ),
}
DESCRIPTIONS = {
    "Personal": (
        "neighbour shouting abuse at the door most evenings",
        "group of youths threatened her outside the shop",
        "ex partner and friends banging on the door late at night",
        "abusive messages and threats from neighbour",
    ),
    "Nuisance": (
        "loud music and shouting from flat until early morning",
        "youths drinking and smashing bottles in the park",
        "motorbikes racing on the footpath near the school",
        "people drinking in the doorway of the shops",
    ),
    "Environmental": (
        "fly tipping of furniture in the alleyway",
        "graffiti on the wall of the bus stop",
        "needles and litter left in the playground",
        "car abandoned on the green with windows smashed",
    ),
}


def _victim(rng: random.Random, people: list[Person], weights: list[float], category: str) -> Person | None:
    chance = {"Personal": 0.95, "Nuisance": 0.5, "Environmental": 0.1}[category]
    if rng.random() >= chance:
        return None
    if category == "Personal" and rng.random() < 0.6:
        return rng.choices(people[AT_RISK], weights=weights)[0]
    return rng.choice(people)


def _incident_type(rng: random.Random, category: str) -> str:
    listed, free = TYPES[category]
    return rng.choice(listed) if rng.random() < 0.7 else rng.choice(free)


def rows(request: GenerateRequest) -> Iterator[dict[str, str]]:
    """`request.rows` cases in case-reference order."""
    rng = request.rng()
    people = population(request.seed)
    weights = repeat_weights(rng, len(people[AT_RISK]))
    for number in range(request.rows):
        category = rng.choices(list(CATEGORY_WEIGHTS), weights=list(CATEGORY_WEIGHTS.values()))[0]
        day = request.moment(rng).date()
        reported = datetime.combine(day, datetime.min.time()) + timedelta(
            hours=hour(rng, DAY_HOURS), minutes=rng.randrange(60)
        )
        victim = _victim(rng, people, weights, category)
        if victim is not None and victim.born >= day:
            victim = None
        point = rng.choice(request.postcodes)
        tier = (
            rng.choices(("High", "Medium", "Standard"), weights=(15, 35, 50))[0]
            if category == "Personal"
            else rng.choices(("Medium", "Standard", ""), weights=(10, 80, 10))[0]
        )
        grid = rng.random() < 0.25
        yield {
            "Case Reference": f"ASB/{reported.year}/{request.seed % 100:02d}{number + 1:05d}",
            "Reported Date Time": uk_datetime(reported),
            "NSIR Category": category,
            "Incident Type": _incident_type(rng, category),
            "Easting": str(point.easting) if grid else "",
            "Northing": str(point.northing) if grid else "",
            "Postcode": "" if grid else point.postcode,
            "Victim Surname": victim.surname if victim else "",
            "Victim Forename": victim.forename if victim else "",
            "Victim DOB": uk_date(victim.born) if victim else "",
            "Risk Tier": tier,
            "Description": with_identifiers(rng, rng.choice(DESCRIPTIONS[category]), victim, point, 0.15),
            "Case Status": rng.choices(("Open", "Closed", "Deleted"), weights=(30, 67, 3))[0],
            "Complainant Phone": victim.phone if victim else "",
            "Complainant Email": victim.email if victim else "",
            "Complainant Address": f"{rng.randint(1, 90)} Grove Road, Eastbourne {point.postcode}" if victim else "",
        }


GENERATOR = FeedGenerator(
    dataset=DATASET,
    columns=(*COLUMNS, *EXTRA_COLUMNS),
    rows=rows,
    identifier_columns=(*IDENTIFIERS, *EXTRA_COLUMNS),
    free_text_columns=("Incident Type", "Description"),
)
