"""What the people-centred feeds (police records, council ASB, MARAC, probation) draw on in common.

Feeds generated with the same seed share one synthetic population, so that the same victim or offender turns up
in several agencies' exports (as in life) and linkage across feeds has something to find. The population is split
into fixed groups: people at risk of victimisation, and people who offend.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, datetime

from producers.generators.base import Person, PostcodePoint, make_people

POPULATION = 3000
AT_RISK = slice(0, 400)  # victims of domestic abuse and targeted ASB come mostly from here
OFFENDING = slice(400, 1400)  # perpetrators and probation cases come from here

# Relative weight of an incident by hour of day (0-23): night-time violence and disorder, daytime theft and ASB.
NIGHT_HOURS = (9, 8, 7, 5, 3, 2, 1, 1, 1, 2, 2, 3, 3, 3, 3, 4, 4, 5, 5, 6, 7, 8, 10, 10)
DAY_HOURS = (1, 1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 9, 9, 9, 9, 9, 9, 8, 7, 6, 5, 4, 2, 1)


def population(seed: int) -> list[Person]:
    """The shared synthetic adults (born 1950-2004) of a seed: the same list whichever feed asks."""
    return make_people(random.Random(f"population:{seed}"), POPULATION, born_from=date(1950, 1, 1), years=55)


def offenders(people: list[Person]) -> list[Person]:
    """The people of the offending group young enough to be offending now (born 1970 or later)."""
    return [person for person in people[OFFENDING] if person.born.year >= 1970]


def repeat_weights(rng: random.Random, count: int) -> list[float]:
    """Heavy-tailed weights for drawing `count` people: most appear once, a few appear again and again."""
    return [rng.paretovariate(1.3) for _ in range(count)]


def uk_date(day: date) -> str:
    """A date as agency systems export it: DD/MM/YYYY."""
    return day.strftime("%d/%m/%Y")


def uk_datetime(moment: datetime) -> str:
    """A date and time as agency systems export it: DD/MM/YYYY HH:MM."""
    return moment.strftime("%d/%m/%Y %H:%M")


def with_identifiers(rng: random.Random, note: str, person: Person | None, point: PostcodePoint, rate: float) -> str:
    """`note`, and at `rate` a name, phone number, e-mail or postcode typed into it (as real notes have)."""
    if rng.random() >= rate:
        return note
    choices: list[str] = [f"{note}, call back on {person.phone}" if person else f"{note}, 07700 900555"]
    choices.append(f"{note} near {point.postcode}")
    if person is not None:
        choices += [f"{person.forename} {person.surname} says {note}", f"{note}, contact {person.email}"]
    return rng.choice(choices)


def hour(rng: random.Random, weights: Sequence[int]) -> int:
    """An hour of the day drawn by `weights`."""
    return rng.choices(range(24), weights=weights)[0]
