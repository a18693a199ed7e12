"""Print the package import matrix and fail when an import runs against the hub's one direction.

Usage: python tools/import_matrix.py [--root DIR]

Rows import columns; a cell counts import statements. The allowed direction (docs/architecture.md):
sharing_protocols (nothing of the project) <- producers; sharing_protocols <- geography <- warehouse
<- stream_processors, api <- web (the web application's pages); broker_access (nothing of the project)
<- producers, stream_processors;
deploy (the composition root) may import everything and nothing imports it.
tests and benchmarks are shown but not checked: they drive the packages from outside, as deploy does.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import Counter
from pathlib import Path

# What each production package may import (besides itself). Anything else is a violation.
ALLOWED: dict[str, frozenset[str]] = {
    "sharing_protocols": frozenset(),
    "broker_access": frozenset(),
    "producers": frozenset({"sharing_protocols", "broker_access"}),
    "geography": frozenset({"sharing_protocols"}),
    "warehouse": frozenset({"sharing_protocols", "geography"}),
    "stream_processors": frozenset({"sharing_protocols", "broker_access", "geography", "warehouse"}),
    "api": frozenset({"sharing_protocols", "geography", "warehouse"}),
    "web": frozenset({"sharing_protocols", "geography", "warehouse", "api"}),
    "deploy": frozenset(
        {"sharing_protocols", "broker_access", "producers", "geography", "warehouse", "stream_processors", "api", "web"}
    ),
}
UNCHECKED = ("tests", "benchmarks")
PACKAGES = (*ALLOWED, *UNCHECKED)


def imported_packages(path: Path, package: str) -> list[str]:
    """The top-level project packages that one module's import statements name (relative imports: its own)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append(package if node.level else (node.module or "").split(".")[0])
    return [name for name in found if name in PACKAGES]


def matrix(root: Path) -> tuple[Counter[tuple[str, str]], list[str]]:
    """Import counts per (importer, imported) package, and each import that breaks the direction."""
    counts: Counter[tuple[str, str]] = Counter()
    violations: list[str] = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            for target in imported_packages(path, package):
                if target == package:
                    continue
                counts[package, target] += 1
                if package in ALLOWED and target not in ALLOWED[package]:
                    violations.append(f"{path.relative_to(root)}: {package} imports {target}")
    return counts, violations


def render(counts: Counter[tuple[str, str]]) -> str:
    """The matrix as a fixed-width table (rows import columns; '.' for none)."""
    width = max(map(len, PACKAGES)) + 1
    short = [name[:8] for name in PACKAGES]
    lines = [" " * width + " ".join(f"{name:>8}" for name in short)]
    for row in PACKAGES:
        cells = " ".join(f"{counts[row, col] or '.':>8}" if row != col else f"{'-':>8}" for col in PACKAGES)
        lines.append(f"{row:<{width}}{cells}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args(argv)
    counts, violations = matrix(args.root)
    print(render(counts))
    for line in violations:
        print(f"against the direction: {line}", file=sys.stderr)
    print(f"{len(violations)} import(s) against the direction", file=sys.stderr)
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
