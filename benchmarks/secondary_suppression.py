"""Secondary suppression's time on the public LSOA answer of the demo, against the suppressor before its candidates
were made as needed (tests/support/protect_reference.py), each checked to release exactly the same table.

Pure (no services). The tables: the police.uk street counts of January 2019 by LSOA (the file's own codes) for
Sussex, Essex and Hampshire (the demo's `/v1/public/counts?...&level=lsoa&from=2019-01&to=2019-01`: 3,296 cells,
1,485 under 8), and for Sussex alone; under the NHS rule (8 / 5) the public routes apply.

    .venv/bin/python -m benchmarks.secondary_suppression [--forces sussex essex hampshire] [--no-reference]
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import Counter
from collections.abc import Callable, Mapping

from sharing_protocols.disclosure import DEFAULT_RULE, Key, ProtectedTable, Rule, protect
from tests.support import protect_reference as reference
from tests.support.open_data import ESSEX_STREET, HAMPSHIRE_STREET, SHARED_DATA, SUSSEX_STREET

FORCES = {"sussex": SUSSEX_STREET, "essex": ESSEX_STREET, "hampshire": HAMPSHIRE_STREET}


def lsoa_month(forces: list[str]) -> dict[Key, int]:
    """The street counts of January 2019 by LSOA for `forces`."""
    counts: Counter[str] = Counter()
    for force in forces:
        with (SHARED_DATA / FORCES[force]).open(encoding="utf-8", newline="") as handle:
            counts.update(row["LSOA code"] for row in csv.DictReader(handle) if row["LSOA code"])
    return {(lsoa, "2019-01"): n for lsoa, n in counts.items()}


def timed(
    run: Callable[[Mapping[Key, int], Rule, int], ProtectedTable], cells: dict[Key, int]
) -> tuple[float, ProtectedTable]:
    start = time.perf_counter()
    table = run(cells, DEFAULT_RULE, 2)
    return time.perf_counter() - start, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--forces", nargs="+", choices=sorted(FORCES), default=["sussex", "essex", "hampshire"])
    parser.add_argument("--no-reference", action="store_true", help="time the present suppressor only")
    args = parser.parse_args()
    for forces in ([args.forces[0]], args.forces) if len(args.forces) > 1 else ([args.forces[0]],):
        cells = lsoa_month(forces)
        small = sum(1 for n in cells.values() if n < DEFAULT_RULE.min_cell_count)
        now, table = timed(protect, cells)
        line = f"{'+'.join(forces)}: {len(cells)} cells ({small} under 8), {table.secondary} secondary; now {now:.3f} s"
        if not args.no_reference:
            before, expected = timed(reference.protect, cells)
            same = (table.cells, table.margins, table.total) == (expected.cells, expected.margins, expected.total)
            if not same:
                raise SystemExit(f"{line}: the tables differ from the reference's")
            line += f", before {before:.3f} s, {before / now:.0f}x faster, same table"
        print(line, flush=True)


if __name__ == "__main__":
    main()
