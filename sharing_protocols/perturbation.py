"""The cell key method (ONS, Census 2021): record keys, cell keys and the perturbation table, pure.

Every event gets a record key when it is first loaded: a uniform random integer in 0..RECORD_KEY_MODULUS-1, kept
for the life of the event and never derived from its content. A cell's key is the sum of its events' record keys
modulo RECORD_KEY_MODULUS, so the same events always give the same cell key, however the cell is asked for. The
perturbation added to the cell's count is read from a published perturbation table: for the count (counts above
the table's top row use the top row) the table lists perturbations with their probabilities; the cell key, as a
fraction of the modulus, picks one by cumulative probability. Equal cells therefore get equal answers, and a
difference of two overlapping cells carries the noise of both instead of the hidden count.

RECORD_KEY_MODULUS is 2**16: fine enough that a table's probabilities (multiples of 1e-6) are met to within
1/65536 per perturbation, and an event's key fits a PostgreSQL integer.

A table is a versioned YAML document (`kind: perturbation_table`, id, version, its parameters and rows);
`parse_table` refuses one that breaks any of `table_problems`' rules, naming file and field path.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from sharing_protocols.documents import (
    SLUG_MESSAGE,
    SLUG_PATTERN,
    DocumentError,
    DocumentFormat,
    FrozenModel,
    Problem,
    Slug,
)

RECORD_KEY_MODULUS = 2**16
TABLE_KIND = "perturbation_table"
TABLE_REF_PATTERN = r"^[a-z0-9][a-z0-9-]*@[1-9][0-9]*$"
TableRef = Annotated[str, StringConstraints(pattern=TABLE_REF_PATTERN, max_length=90)]
TABLE_REF_MESSAGE = "must name a perturbation table as id@version, e.g. hub-cell-key@1"

# How far a row's probabilities may sum from 1, and a table's mean and variance from 0 and V: probabilities are
# written to 6 decimal places, which moves a mean or a variance by far less than these.
SUM_TOLERANCE = 1e-9
MEAN_TOLERANCE = 1e-3
VARIANCE_TOLERANCE = 0.01  # relative to V


class PerturbationTableError(DocumentError):
    """A perturbation table that cannot be used; `problems` says where and why."""


class Perturbation(FrozenModel):
    """One perturbation of a row and its probability."""

    p: int = Field(ge=-1_000, le=1_000)
    probability: float = Field(gt=0, le=1)


class PerturbationRow(FrozenModel):
    """The perturbations of one count, in increasing order of `p`."""

    count: int = Field(ge=0)
    perturbations: tuple[Perturbation, ...] = Field(min_length=1)

    def moments(self) -> tuple[float, float]:
        """The mean and variance of this row's perturbation."""
        mean = sum(e.p * e.probability for e in self.perturbations)
        return mean, sum((e.p - mean) ** 2 * e.probability for e in self.perturbations)


class PerturbationTable(FrozenModel):
    """A published perturbation table: its parameters and a row for each count from 0 to its top row.

    `maximum_perturbation` is D (every |p| <= D), `variance` V (that of every row whose support is not cut by 0 or
    the small-count threshold), `small_count_threshold` js (no count is ever released as 1..js). `procedure` says
    how the numbers were made, so anyone can make them again.
    """

    kind: Literal["perturbation_table"]
    id: Slug
    version: int = Field(ge=1)
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    procedure: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)]
    maximum_perturbation: int = Field(ge=0, le=1_000)
    variance: float = Field(ge=0)
    small_count_threshold: int = Field(ge=0, le=1_000)
    rows: tuple[PerturbationRow, ...] = Field(min_length=1)

    @property
    def label(self) -> str:
        return f"{self.id}@{self.version}"

    @property
    def top_count(self) -> int:
        """The count of the last row: larger counts are perturbed as this one."""
        return self.rows[-1].count

    def row(self, count: int) -> PerturbationRow:
        """The row that perturbs `count` (the top row for counts above it)."""
        return self.rows[min(count, self.top_count)]

    def full_rows(self) -> list[PerturbationRow]:
        """The rows whose counts can take every perturbation in -D..D: mean 0 and variance V are due there."""
        first = self.small_count_threshold + self.maximum_perturbation + 1
        return [row for row in self.rows if row.count >= first or row is self.rows[-1]]


TABLE_FORMAT = DocumentFormat(
    "perturbation table", PerturbationTable, PerturbationTableError, {SLUG_PATTERN: SLUG_MESSAGE}
)


def table_problems(table: PerturbationTable, source_name: str) -> list[Problem]:
    """Every rule a well-formed table breaks; an empty list means it may be used.

    Rows for counts 0, 1, ... in order; in each row perturbations in increasing order, probabilities summing to 1,
    |p| <= D, count + p >= 0 and never in 1..js; 0 stays 0; in the full rows (`full_rows`) mean 0 and variance V
    within MEAN_TOLERANCE and VARIANCE_TOLERANCE. Checking the top row at its own count suffices for the larger
    counts it serves (count + p only grows).
    """
    problems: list[Problem] = []
    d, js = table.maximum_perturbation, table.small_count_threshold

    def add(path: str, message: str) -> None:
        problems.append(Problem(source_name, path, message))

    for i, row in enumerate(table.rows):
        at = f"rows[{i}]"
        if row.count != i:
            add(f"{at}.count", f"must be {i}: rows give the counts 0, 1, 2, ... in order")
            continue
        ps = [e.p for e in row.perturbations]
        if ps != sorted(set(ps)):
            add(f"{at}.perturbations", "must list each perturbation once, in increasing order of p")
        total = sum(e.probability for e in row.perturbations)
        if abs(total - 1) > SUM_TOLERANCE:
            add(f"{at}.perturbations", f"probabilities sum to {total:.9f}, not 1")
        for j, entry in enumerate(row.perturbations):
            released = row.count + entry.p
            if abs(entry.p) > d:
                add(f"{at}.perturbations[{j}].p", f"is beyond the maximum perturbation {d}")
            if released < 0:
                add(f"{at}.perturbations[{j}].p", "would release a negative count")
            elif 1 <= released <= js:
                add(f"{at}.perturbations[{j}].p", f"would release {released}, within the small counts 1-{js}")
            if row.count == 0 and entry.p != 0:
                add(f"{at}.perturbations[{j}].p", "must be 0: zero is never perturbed")
    if problems:
        return problems
    for row in table.full_rows():
        mean, variance = row.moments()
        at = f"rows[{row.count}].perturbations"
        if abs(mean) > MEAN_TOLERANCE:
            add(at, f"mean perturbation is {mean:.6f}, not 0")
        if abs(variance - table.variance) > VARIANCE_TOLERANCE * max(table.variance, 1e-9):
            add(at, f"variance is {variance:.6f}, not the table's variance {table.variance}")
    return problems


def check_table_document(text: str, source_name: str) -> list[Problem]:
    """Every problem of one perturbation-table document; an empty list means it passes."""
    try:
        table = TABLE_FORMAT.validate(TABLE_FORMAT.load_yaml(text, source_name), source_name)
    except PerturbationTableError as exc:
        return list(exc.problems)
    return table_problems(table, source_name)


def parse_table(text: str, source_name: str) -> PerturbationTable:
    """The table in a YAML document; PerturbationTableError naming file and field path if it is not usable."""
    return TABLE_FORMAT.build(TABLE_FORMAT.load_yaml(text, source_name), source_name, table_problems)


def is_table_document(data: object) -> bool:
    """Whether parsed YAML is a perturbation table (it says `kind: perturbation_table`) rather than a protocol."""
    return isinstance(data, dict) and data.get("kind") == TABLE_KIND


def cell_key(record_keys: Iterable[int]) -> int:
    """A cell's key: the sum of its records' keys modulo RECORD_KEY_MODULUS."""
    return sum(record_keys) % RECORD_KEY_MODULUS


def key_ranges(row: PerturbationRow) -> list[tuple[int, int, int]]:
    """(p, first cell key, last cell key + 1) for each perturbation of a row: consecutive ranges over 0..RK-1.

    Perturbation i takes the keys from round(RK x the cumulative probability before it) to round(RK x the
    cumulative probability up to it); the last one ends at RK.
    """
    ranges: list[tuple[int, int, int]] = []
    cumulative, start = 0.0, 0
    for i, entry in enumerate(row.perturbations):
        cumulative += entry.probability
        end = RECORD_KEY_MODULUS if i == len(row.perturbations) - 1 else round(cumulative * RECORD_KEY_MODULUS)
        ranges.append((entry.p, start, max(start, end)))
        start = max(start, end)
    return ranges


def perturbation(count: int, key: int, table: PerturbationTable) -> int:
    """The perturbation the table gives a cell of `count` with cell key `key`."""
    if count < 0:
        raise ValueError("a count cannot be negative")
    if not 0 <= key < RECORD_KEY_MODULUS:
        raise ValueError(f"a cell key is in 0..{RECORD_KEY_MODULUS - 1}")
    for p, start, end in key_ranges(table.row(count)):
        if start <= key < end:
            return p
    raise AssertionError("the key ranges of a row cover every cell key")


def perturb(count: int, key: int, table: PerturbationTable) -> int:
    """The count as released under the cell key method: count + its perturbation (0 stays 0)."""
    return count + perturbation(count, key, table) if count else 0
