"""Seeded jittered police.uk rows for benchmarks: real points moved by up to ~250 m, with fresh crime ids."""

from __future__ import annotations

import csv
import random
from pathlib import Path

SOURCES = (
    "feeds/police_uk/2019-01-essex-street.csv",
    "feeds/police_uk/2019-01-sussex-street.csv",
    "feeds/police_uk/2019-01-hampshire-street.csv",
)
JITTER_DEGREES = 0.0025


def write_jittered(shared_data: Path, out: Path, count: int, seed: int = 2019) -> Path:
    """Write `count` rows in the police.uk street format to `out` (reused when already there)."""
    if out.exists() and sum(1 for _ in out.open()) == count + 1:
        return out
    rows: list[list[str]] = []
    header: list[str] = []
    for source in SOURCES:
        with (shared_data / source).open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            rows.extend(r for r in reader if r[4])
    rng = random.Random(seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for _ in range(count):
            row = list(rng.choice(rows))
            row[0] = f"{rng.getrandbits(256):064x}"
            row[1] = f"2019-{rng.randint(1, 12):02d}"
            row[4] = f"{float(row[4]) + rng.uniform(-JITTER_DEGREES, JITTER_DEGREES):.6f}"
            row[5] = f"{float(row[5]) + rng.uniform(-JITTER_DEGREES, JITTER_DEGREES):.6f}"
            writer.writerow(row)
    return out
