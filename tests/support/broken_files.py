"""Partner files for the broken-input tests: valid police.uk street rows to break, a planted personal value."""

from __future__ import annotations

import csv
import io

PLANTED = "Zephyr Fakename 07700 900123"  # a personal value that no output may repeat
TEN_MB = 10 * 1024 * 1024


def street_row(number: int, **changes: str) -> dict[str, str]:
    """A valid data.police.uk street row, its crime id made from `number`."""
    row = {
        "Crime ID": f"{number:064x}",
        "Month": "2024-01",
        "Reported by": "Sussex Police",
        "Falls within": "Sussex Police",
        "Longitude": "0.2846",
        "Latitude": "50.7687",
        "Location": "On or near Grove Road",
        "LSOA code": "E01020965",
        "LSOA name": "Eastbourne 008A",
        "Crime type": "Burglary",
        "Last outcome category": "",
        "Context": "",
    }
    return {**row, **changes}


def csv_bytes(rows: list[dict[str, str]], header: list[str] | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header or list(rows[0]))
    writer.writerows([list(row.values()) for row in rows])
    return out.getvalue().encode()
