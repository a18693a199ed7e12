"""Synthetic police records exports: crimes and incidents, with repeat victims of domestic abuse.

About two thirds crimes (by Home Office offence code, common assault and shoplifting the most frequent), a third
incidents. A third of violent crimes and most "Domestic Incident" incidents are domestic abuse; their victims come
from a small pool of people at risk, some of whom are victims again and again within the year. About 2% of crimes
are cancelled and 1% transferred to another force.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta

from producers.feeds.police_records import COLUMNS, IDENTIFIERS, OFFENCES
from producers.generators.base import FeedGenerator, GenerateRequest, Person, PostcodePoint
from producers.generators.shared_people import (
    AT_RISK,
    DAY_HOURS,
    NIGHT_HOURS,
    hour,
    population,
    repeat_weights,
    uk_date,
    uk_datetime,
    with_identifiers,
)
from sharing_protocols.datasets.police_records import DATASET

EXTRA_COLUMNS = ("Victim Phone", "Victim Email")  # held by the records system; never read by the adapter
FORCE_CODE = "47"  # Sussex Police's force number, the first two digits of its crime references

# Home Office offence code -> relative frequency (roughly as a district's recorded crime is made up).
OFFENCE_WEIGHTS: dict[str, int] = {
    "105A": 14, "8N": 8, "8L": 5, "8R": 4, "8Q": 2, "3B": 1, "8P": 1, "105B": 1, "5D": 1,
    "46": 10, "49": 7, "39": 1, "44": 3, "45": 4, "48": 2, "126": 1,
    "58A": 3, "58B": 1, "58C": 3, "58D": 2, "56B": 1,
    "28E": 4, "28F": 1, "30C": 2,
    "92D": 2, "92E": 3, "92A": 1, "9A": 6, "9B": 1, "62A": 1, "10D": 1, "10C": 1,
    "34B": 1, "34A": 1, "20A": 1, "19C": 1, "53C": 1, "99": 1, "33": 1, "54": 1,
}  # fmt: skip
VIOLENT_GROUPS = ("violence-against-the-person", "sexual-offences")
PERSONAL_GROUPS = (*VIOLENT_GROUPS, "robbery", "criminal-damage-and-arson", "public-order-offences")
NO_VICTIM = ("46", "30C", "92D", "92E", "92A", "10D", "10C", "34A", "99", "33", "54", "9A")
INCIDENT_TYPES = {
    "ASB Personal": 12,
    "ASB Nuisance": 20,
    "ASB Environmental": 5,
    "Domestic Incident": 14,
    "Concern for Safety": 12,
    "Suspicious Circumstances": 10,
    "Road Related Incident": 8,
    "Public Safety": 5,
}
HATE_STRANDS = ("Race", "Religion", "Sexual Orientation", "Disability", "Transgender")
OUTCOMES = {
    "": 20,  # still under investigation
    "Outcome 1: Charge/Summons": 10,
    "Outcome 3: Caution - adults": 2,
    "Outcome 8: Community Resolution": 4,
    "Outcome 14: Evidential difficulties: suspect not identified; victim does not support further action": 8,
    "Outcome 15: Evidential difficulties: suspect identified; victim supports action": 12,
    "Outcome 16: Evidential difficulties: suspect identified; victim does not support further action": 16,
    "Outcome 18: Investigation complete - no suspect identified": 28,
}
STREETS = (
    "Grove Road", "Terminus Road", "Seaside", "Langney Road", "Station Parade", "High Street", "Cavendish Place",
    "Royal Parade", "Green Street", "Victoria Drive", "Parking Area", "Supermarket", "Shopping Area", "Nightclub",
    "Sports/Recreation Area", "Petrol Station",
)  # fmt: skip
MO_NOTES = {
    "violence": (
        "suspect punched victim in the face outside the pub",
        "ex partner grabbed victim by the neck at home",
        "partner pushed victim down the stairs and kicked her",
        "unknown male headbutted victim in the street",
        "group of youths kicked victim while on the ground",
        "husband threatened wife with a knife in the kitchen",
        "victim assaulted by doorman at the nightclub",
    ),
    "theft": (
        "unknown male stole bottles of alcohol from store",
        "suspect took phone from table in the pub",
        "bicycle stolen from outside the station",
        "vehicle broken into and items taken overnight",
        "offender entered house through rear door and took property",
    ),
    "damage": (
        "offender smashed window of flat with a brick",
        "ex partner damaged car parked outside the house",
        "graffiti sprayed on the wall of the school",
    ),
    "other": (
        "suspect found in possession of drugs during stop",
        "youths shouting and swearing at staff in the shop",
        "male threatened staff with a bottle at the bar",
    ),
    "incident": (
        "neighbour reports loud music and shouting from flat",
        "caller concerned for welfare of elderly neighbour",
        "verbal argument between partner and ex at home",
        "youths drinking in the park and throwing bottles",
        "suspicious vehicle parked near the school at night",
    ),
}


def _mo_kind(code: str) -> str:
    group = OFFENCES[code].group
    if group in VIOLENT_GROUPS or group == "robbery":
        return "violence"
    if group == "theft-offences":
        return "theft"
    return "damage" if group == "criminal-damage-and-arson" else "other"


class _Victims:
    """Draws victims: domestic abuse ones from the at-risk pool with heavy repeats, others from everyone."""

    def __init__(self, rng: random.Random, people: list[Person]) -> None:
        self.rng = rng
        self.at_risk = people[AT_RISK]
        self.weights = repeat_weights(rng, len(self.at_risk))
        self.everyone = people

    def draw(self, domestic: bool) -> Person:
        if domestic:
            return self.rng.choices(self.at_risk, weights=self.weights)[0]
        return self.rng.choice(self.everyone)


def _place(rng: random.Random, point: PostcodePoint) -> dict[str, str]:
    roll = rng.random()
    grid = {
        "Easting": str(point.easting + rng.randint(-25, 25)),
        "Northing": str(point.northing + rng.randint(-25, 25)),
    }
    if roll < 0.55:
        return {**grid, "Postcode": ""}
    if roll < 0.85:
        return {"Easting": "", "Northing": "", "Postcode": point.postcode}
    return {**grid, "Postcode": point.postcode}


def _location_description(rng: random.Random, point: PostcodePoint) -> str:
    street = rng.choice(STREETS)
    roll = rng.random()
    if roll < 0.1:
        return f"{rng.randint(1, 120)} {street}"  # a house number: the street policy drops it
    if roll < 0.15:
        return f"{street} {point.postcode}"  # a postcode typed in: the street policy drops the whole text
    return f"On or near {street}"


def _when(request: GenerateRequest, rng: random.Random, night: bool) -> datetime:
    day = request.moment(rng).date()
    return datetime.combine(day, datetime.min.time()) + timedelta(
        hours=hour(rng, NIGHT_HOURS if night else DAY_HOURS), minutes=rng.randrange(60)
    )


def _victim_columns(person: Person | None) -> dict[str, str]:
    if person is None:
        return dict.fromkeys((*IDENTIFIERS, *EXTRA_COLUMNS), "")
    return {
        "Victim Surname": person.surname,
        "Victim Forename": person.forename,
        "Victim DOB": uk_date(person.born),
        "Victim Phone": person.phone,
        "Victim Email": person.email,
    }


def rows(request: GenerateRequest) -> Iterator[dict[str, str]]:
    """`request.rows` records, crimes and incidents mixed, in the order the system exports them (by reference)."""
    rng = request.rng()
    victims = _Victims(rng, population(request.seed))
    homes: dict[Person, PostcodePoint] = {}
    codes, code_weights = list(OFFENCE_WEIGHTS), list(OFFENCE_WEIGHTS.values())
    for number in range(request.rows):
        crime = rng.random() < 0.68
        if crime:
            code = rng.choices(codes, weights=code_weights)[0]
            offence = OFFENCES[code]
            violent = offence.group in VIOLENT_GROUPS
            domestic = offence.group in PERSONAL_GROUPS and rng.random() < (0.35 if violent else 0.15)
            incident_type = ""
            night = violent or offence.group in ("public-order-offences", "criminal-damage-and-arson")
        else:
            code, offence = "", None
            incident_type = rng.choices(list(INCIDENT_TYPES), weights=list(INCIDENT_TYPES.values()))[0]
            domestic = incident_type == "Domestic Incident" or (
                incident_type == "Concern for Safety" and rng.random() < 0.2
            )
            violent, night = False, incident_type.startswith("ASB") or domestic
        occurred = _when(request, rng, night)
        has_victim = (
            domestic or (crime and code not in NO_VICTIM) or incident_type in ("ASB Personal", "Concern for Safety")
        )
        victim = victims.draw(domestic) if has_victim else None
        if victim is not None and victim.born >= occurred.date():
            victim = None
        point = rng.choice(request.postcodes)
        if domestic and victim is not None:
            point = homes.setdefault(victim, point)  # domestic abuse mostly happens at the victim's home
        hate = code in ("8P", "105B", "9B", "8M") or (crime and violent and rng.random() < 0.03)
        strand = "Race" if code in ("8P", "105B", "9B", "8M") else (rng.choice(HATE_STRANDS) if hate else "")
        if crime:
            status = rng.choices(("Recorded", "Cancelled", "Transferred"), weights=(97, 2, 1))[0]
            kind = _mo_kind(code)
        else:
            status, kind = "", "incident"
        alcohol = night and rng.random() < 0.4
        ended = occurred + timedelta(minutes=rng.randrange(5, 240)) if rng.random() < 0.5 else None
        recorded = occurred + timedelta(days=rng.choice((0, 0, 0, 1, 1, 2, 5)))
        reference = f"{FORCE_CODE}{occurred.year % 100:02d}{number + 1:07d}"
        yield {
            "Record Type": "Crime" if crime else "Incident",
            "Crime Reference": reference if crime else "",
            "Incident Reference": f"{(number * 37) % 10000:04d} of {uk_date(occurred.date())}",
            "Recorded Date": uk_date(recorded.date()),
            "Occurred From": uk_datetime(occurred),
            "Occurred To": uk_datetime(ended) if ended else "",
            "Home Office Offence Code": code,
            "Police.uk Category": "",
            "Incident Type": incident_type,
            "Domestic Abuse Flag": "Y" if domestic else "N",
            "Hate Crime Flag": "Y" if hate else "N",
            "Hate Strand": strand,
            "Alcohol Related Flag": "Y" if alcohol else "N",
            **_place(rng, point),
            "Location Description": _location_description(rng, point),
            **_victim_columns(victim),
            "Outcome": rng.choices(list(OUTCOMES), weights=list(OUTCOMES.values()))[0] if crime else "",
            "Crime Status": status,
            "MO Summary": with_identifiers(rng, rng.choice(MO_NOTES[kind]), victim, point, 0.12),
        }


GENERATOR = FeedGenerator(
    dataset=DATASET,
    columns=(*COLUMNS, *EXTRA_COLUMNS),
    rows=rows,
    identifier_columns=(*IDENTIFIERS, *EXTRA_COLUMNS),
    free_text_columns=("Location Description", "MO Summary"),
)
