"""What a feed generator is, and the synthetic people and places every generator draws on."""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sharing_protocols.periods import add_months

# Invented names (common enough to be realistic, combined at random); they belong to no one in the data.
FORENAMES = (
    "Olivia Amelia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Freya Willow Florence Emily Ella Poppy Evie "
    "Noah Oliver George Leo Arthur Muhammad Harry Oscar Archie Henry Theodore Freddie Jack Charlie Theo Jacob Alfie"
).split()
SURNAMES = (
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Wright Robinson Thompson Evans Walker White "
    "Roberts Green Hall Thomas Clarke Jackson Wood Harris Edwards Turner Martin Cooper Hill Ward Hughes Moore"
).split()


@dataclass(frozen=True)
class Person:
    """A synthetic person with the identifiers an agency system holds."""

    forename: str
    surname: str
    born: date
    nhs_number: str  # in the 999 range the NHS reserves for testing, with a valid check digit
    phone: str  # in Ofcom's drama range (07700 900000-900999)

    @property
    def email(self) -> str:
        return f"{self.forename.lower()}.{self.surname.lower()}@example.com"


def test_nhs_number(rng: random.Random) -> str:
    """A valid NHS number from the 999 test range, formatted 3-3-4."""
    while True:
        body = "999" + "".join(str(rng.randrange(10)) for _ in range(6))
        check = 11 - sum(int(d) * (10 - i) for i, d in enumerate(body)) % 11
        check = 0 if check == 11 else check
        if check != 10:
            digits = body + str(check)
            return f"{digits[:3]} {digits[3:6]} {digits[6:]}"


def make_people(rng: random.Random, count: int, born_from: date = date(1940, 1, 1), years: int = 70) -> list[Person]:
    """`count` distinct synthetic people."""
    people: dict[tuple[str, str, date], Person] = {}
    while len(people) < count:
        forename, surname = rng.choice(FORENAMES), rng.choice(SURNAMES)
        born = born_from + timedelta(days=rng.randrange(years * 365))
        phone = f"07700 900{rng.randrange(1000):03d}"
        people.setdefault((forename, surname, born), Person(forename, surname, born, test_nhs_number(rng), phone))
    return list(people.values())


@dataclass(frozen=True)
class PostcodePoint:
    """A real postcode with its Code-Point Open grid reference and district."""

    postcode: str
    easting: int
    northing: int
    district: str


def read_codepoint(path: Path, districts: Sequence[str] = ()) -> list[PostcodePoint]:
    """The postcodes of a Code-Point Open CSV (with header), optionally only those in `districts`."""
    points = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if districts and row["Admin_district_code"] not in districts:
                continue
            if not row["Eastings"] or int(row["Positional_quality_indicator"] or 90) >= 90:
                continue
            points.append(
                PostcodePoint(row["Postcode"], int(row["Eastings"]), int(row["Northings"]), row["Admin_district_code"])
            )
    if not points:
        raise ValueError(f"{path}: no usable postcodes" + (f" in {', '.join(districts)}" if districts else ""))
    return points


@dataclass(frozen=True)
class GenerateRequest:
    """What to generate: how many records, from which seed, over which months, on which postcodes."""

    rows: int
    seed: int
    postcodes: Sequence[PostcodePoint]
    start: date = date(2024, 4, 1)
    months: int = 12
    extra: dict[str, str] = field(default_factory=dict)  # generator-specific options (e.g. format=xml)

    def rng(self) -> random.Random:
        return random.Random(self.seed)

    def moment(self, rng: random.Random) -> datetime:
        """A random time within the requested months."""
        end = add_months(self.start, self.months)
        seconds = int(
            (
                datetime.combine(end, datetime.min.time()) - datetime.combine(self.start, datetime.min.time())
            ).total_seconds()
        )
        return datetime.combine(self.start, datetime.min.time()) + timedelta(seconds=rng.randrange(seconds))


@dataclass(frozen=True)
class FeedGenerator:
    """A generator for one dataset: `rows` yields the export's rows (column -> text) for a request.

    `write` (optional) writes a file in a non-CSV format; `identifier_columns` lists the columns that hold
    direct identifiers and `free_text_columns` those holding free text (the privacy tests plant values in them).
    """

    dataset: str
    columns: tuple[str, ...]
    rows: Callable[[GenerateRequest], Iterator[dict[str, str]]]
    identifier_columns: tuple[str, ...] = ()
    free_text_columns: tuple[str, ...] = ()
    write: Callable[[Path, Sequence[dict[str, str]], tuple[str, ...]], None] | None = None


def write_csv(path: Path, rows: Sequence[dict[str, str]], columns: tuple[str, ...]) -> None:
    """Rows as a CSV file with a header (extra keys in a row become extra columns, as in a real export)."""
    extra = [key for row in rows for key in row if key not in columns]
    header = list(columns) + list(dict.fromkeys(extra))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, restval="")
        writer.writeheader()
        writer.writerows(rows)
