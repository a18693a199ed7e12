"""Code lists a deployment configures (e.g. ISTV assault method): one `<name>.csv` file per list, code and label."""

from __future__ import annotations

import csv
from pathlib import Path


class CodeListError(ValueError):
    """A code list file that cannot be used; the message names the file and row."""


def read_code_lists(directory: Path | None) -> dict[str, dict[str, str]]:
    """Every `*.csv` in `directory` as {list name: {code: label}}; the file needs `code` and `label` columns."""
    if directory is None:
        return {}
    if not directory.is_dir():
        raise CodeListError(f"{directory}: no such code list directory")
    lists: dict[str, dict[str, str]] = {}
    for path in sorted(directory.glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or not {"code", "label"} <= set(reader.fieldnames):
                raise CodeListError(f"{path}, row 1: needs the columns 'code' and 'label'")
            codes: dict[str, str] = {}
            for number, row in enumerate(reader, start=2):
                code = (row["code"] or "").strip()
                if not code:
                    raise CodeListError(f"{path}, row {number}, field 'code': is empty")
                if code in codes:
                    raise CodeListError(f"{path}, row {number}, field 'code': {code!r} is listed twice")
                codes[code] = (row["label"] or "").strip()
        lists[path.stem] = codes
    return lists
