"""Synthetic MARAC case lists: cases heard at fortnightly meetings of the East Sussex MARACs.

About 30% of cases are repeats (the victim was heard within the last 12 months): mostly the same victim and
perpetrator at the same MARAC, some after the victim moved to another MARAC's area, some with a new perpetrator.
About 6% are information-only listings. The recorded repeat flag is right for most cases but not all, as in life.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from producers.feeds.marac_cases import COLUMNS, IDENTIFIERS
from producers.generators.base import FeedGenerator, GenerateRequest, Person, PostcodePoint
from producers.generators.shared_people import AT_RISK, offenders, population, repeat_weights, uk_date
from sharing_protocols.datasets.marac_cases import DATASET

# The East Sussex districts and the MARAC that hears their cases.
AREAS = {
    "E07000061": "eastbourne",
    "E07000062": "hastings",
    "E07000063": "lewes",
    "E07000064": "rother",
    "E07000065": "wealden",
}
AGENCIES = {
    "Police": 58,
    "IDVA Service": 12,
    "Health": 8,
    "Children's Social Care": 6,
    "Housing": 5,
    "Adult Social Care": 3,
    "Probation": 3,
    "Mental Health": 3,
    "Voluntary Sector": 2,
}
REPEAT_SHARE = 0.3
MEETING_DAYS = 14


@dataclass(frozen=True)
class Case:
    """A case as heard: who, with whom, where, when."""

    victim: Person
    perpetrators: tuple[Person, ...]
    area: str
    home: PostcodePoint
    review: date


def area_of(point: PostcodePoint) -> str:
    """The MARAC for a postcode's district (outside East Sussex: one named after the district)."""
    return AREAS.get(point.district, f"marac-{point.district.lower()}")


def _meeting(request: GenerateRequest, area_index: int, day: date) -> date:
    """The area's last meeting on or before `day` (its first meeting when `day` is earlier)."""
    first = request.start + timedelta(days=area_index * 2)
    return first + timedelta(days=max(0, (day - first).days) // MEETING_DAYS * MEETING_DAYS)


def _person_columns(prefix: str, person: Person | None) -> dict[str, str]:
    return {
        f"{prefix} Surname": person.surname if person else "",
        f"{prefix} Forename": person.forename if person else "",
        f"{prefix} DOB": uk_date(person.born) if person else "",
    }


def rows(request: GenerateRequest) -> Iterator[dict[str, str]]:
    """`request.rows` cases in the order heard."""
    rng = request.rng()
    people = population(request.seed)
    victims, perpetrators_pool = people[AT_RISK], offenders(people)
    victim_weights = repeat_weights(rng, len(victims))
    by_area: dict[str, list[PostcodePoint]] = {}
    for point in request.postcodes:
        by_area.setdefault(area_of(point), []).append(point)
    areas = sorted(by_area)
    days = sorted(request.moment(rng).date() for _ in range(request.rows))
    history: list[Case] = []
    heard: set[Person] = set()
    for number, day in enumerate(days):
        recent = [case for case in history if 28 <= (day - case.review).days <= 365]
        if recent and rng.random() < REPEAT_SHARE:
            earlier = rng.choice(recent)
            victim, perpetrators, area, home = earlier.victim, earlier.perpetrators, earlier.area, earlier.home
            roll = rng.random()
            if roll < 0.15 and len(areas) > 1:  # the victim moved: heard at another MARAC
                area = rng.choice([a for a in areas if a != earlier.area])
                home = rng.choice(by_area[area])
            elif roll < 0.3:  # a new perpetrator
                perpetrators = (rng.choice(perpetrators_pool),)
        else:
            unheard = [person for person in victims if person not in heard]
            victim = rng.choice(unheard) if unheard else rng.choices(victims, weights=victim_weights)[0]
            count = 2 if rng.random() < 0.03 else 1
            perpetrators = tuple(rng.sample(perpetrators_pool, count))
            home = rng.choice(request.postcodes)
            area = area_of(home)
        review = _meeting(request, areas.index(area), day)
        repeat = any(c.victim == victim and 0 < (review - c.review).days <= 365 for c in history)
        recorded = rng.random() < (0.9 if repeat else 0.03)
        history.append(Case(victim, perpetrators, area, home, review))
        heard.add(victim)
        yield {
            "Case ID": f"MARAC-{request.seed % 100:02d}-{number + 1:05d}",
            "MARAC Area": area.title(),
            "Referral Date": uk_date(review - timedelta(days=rng.randint(2, 21))),
            "Review Date": uk_date(review),
            "Referring Agency": rng.choices(list(AGENCIES), weights=list(AGENCIES.values()))[0],
            **_person_columns("Victim", victim),
            "Victim Postcode": home.postcode,
            **_person_columns("Perpetrator", perpetrators[0]),
            **_person_columns("Second Perpetrator", perpetrators[1] if len(perpetrators) > 1 else None),
            "Risk Level": rng.choices(("High", "Medium", "Standard"), weights=(88, 9, 3))[0],
            "Information Only": "Y" if rng.random() < 0.06 else "N",
            "Repeat": "Y" if recorded else "N",
            "Victim NHS Number": victim.nhs_number,
            "Victim Phone": victim.phone,
        }


GENERATOR = FeedGenerator(
    dataset=DATASET,
    columns=(*COLUMNS, "Victim NHS Number", "Victim Phone"),
    rows=rows,
    identifier_columns=(*IDENTIFIERS, "Victim NHS Number", "Victim Phone"),
)
