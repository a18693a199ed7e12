"""Synthetic probation / IOM cohort exports: one row per offender per calendar quarter under supervision.

Offenders come from the shared population's offending group (so some are MARAC perpetrators too). The IOM fixed
cohort holds the highest predicted reoffending rates, the flex cohort the next, the general caseload the rest;
whether someone reoffends in a quarter follows their predicted rate. A few offenders move between cohorts.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta

from producers.feeds.probation_iom import COLUMNS, IDENTIFIERS
from producers.generators.base import FeedGenerator, GenerateRequest, Person
from producers.generators.shared_people import offenders, population, uk_date
from sharing_protocols.datasets.probation_iom import DATASET
from sharing_protocols.periods import add_months

COHORTS = {"IOM Fixed": (15, 0.75), "IOM Flex": (25, 0.55), "General": (60, 0.3)}  # weight, typical 2-year rate
PNC_CHECK = "ZABCDEFGHJKLMNPQRTUVWXY"  # the PNC check character of (year * 10^7 + serial) mod 23


def pnc_id(rng: random.Random, person: Person) -> str:
    """A PNC id from the year of a first arrest at 16-30, with its check character."""
    year = (person.born.year + rng.randint(16, 30)) % 100
    serial = rng.randrange(1, 10_000_000)
    return f"{year:02d}/{serial}{PNC_CHECK[(year * 10_000_000 + serial) % 23]}"


def quarters(request: GenerateRequest) -> list[tuple[date, date]]:
    """The three-month periods from the request's first month (the last may be cut short by its end)."""
    periods = []
    for offset in range(0, request.months, 3):
        start = add_months(request.start, offset)
        end = add_months(request.start, min(offset + 3, request.months)) - timedelta(days=1)
        periods.append((start, end))
    return periods


def rows(request: GenerateRequest) -> Iterator[dict[str, str]]:
    """`request.rows` offender-quarters (about), each offender supervised for a run of consecutive quarters."""
    rng = request.rng()
    cases = offenders(population(request.seed))
    periods = quarters(request)
    written = 0
    for person in rng.sample(cases, len(cases)):
        if written >= request.rows:
            return
        cohort = rng.choices(list(COHORTS), weights=[w for w, _ in COHORTS.values()])[0]
        rate = min(0.97, max(0.03, rng.gauss(COHORTS[cohort][1], 0.1)))
        pnc = pnc_id(rng, person)
        home = "" if rng.random() < 0.03 else rng.choice(request.postcodes).postcode  # no fixed abode
        first = rng.randrange(len(periods))
        last = min(len(periods), first + rng.randint(1, len(periods)))
        for start, end in periods[first:last]:
            if written >= request.rows:
                return
            if rng.random() < 0.05:
                cohort = rng.choice(list(COHORTS))
            reoffences = 0
            if rng.random() < rate / 3:  # a quarter's share of the two-year rate, roughly
                reoffences = 1 + int(rng.expovariate(0.8))
            written += 1
            yield {
                "Offender Surname": person.surname,
                "Offender Forename": person.forename,
                "Offender DOB": uk_date(person.born),
                "PNC ID": pnc,
                "Home Postcode": home,
                "Cohort Period Start": uk_date(start),
                "Cohort Period End": uk_date(end),
                "Cohort": cohort,
                "Reoffended": "Y" if reoffences else "N",
                "Predicted Reoffending Rate": f"{rate:.2f}",
                "Offences Count": str(reoffences),
                "NHS Number": person.nhs_number,
            }


GENERATOR = FeedGenerator(
    dataset=DATASET,
    columns=(*COLUMNS, "NHS Number"),
    rows=rows,
    identifier_columns=(*IDENTIFIERS, "NHS Number"),
)
