"""Reads protocol documents from files into a ProtocolRegister (the file I/O that sharing_protocols leaves out)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import sharing_protocols
from api.perturbation_tables import load_table
from deploy.settings import protocol_paths as configured_paths
from sharing_protocols.catalogue import DatasetSpec
from sharing_protocols.checks import catalogue_problems
from sharing_protocols.clause_rule import clause_disclosure
from sharing_protocols.decision import ProtocolRegister
from sharing_protocols.documents import Problem
from sharing_protocols.protocol import Protocol, ProtocolError, parse_protocol


def packaged_protocols_dir() -> Path:
    """The protocols shipped with the hub: the sharing_protocols/protocols directory."""
    return Path(sharing_protocols.__file__).resolve().parent / "protocols"


def protocol_paths(paths: Iterable[Path | str]) -> list[Path]:
    """The files named, with each directory replaced by its *.yaml files (sorted by name)."""
    found: list[Path] = []
    for entry in map(Path, paths):
        found += sorted(entry.glob("*.yaml")) if entry.is_dir() else [entry]
    return found


def table_problems(protocol: Protocol, source: str) -> list[Problem]:
    """A problem for each cell_key clause (stated, or by default: `clause_disclosure`) whose perturbation table is
    not one the hub has (figures could not be worked out under it)."""
    problems = []
    for i, clause in enumerate(protocol.clauses):
        control = clause_disclosure(clause)
        if control is None or control.method != "cell_key" or control.table is None:
            continue
        try:
            load_table(str(control.table))
        except LookupError as exc:
            problems.append(Problem(source, f"clauses[{i}].disclosure.table", str(exc)))
    return problems


def load_register(paths: Iterable[Path | str], catalogue: Mapping[str, DatasetSpec] | None = None) -> ProtocolRegister:
    """A register of every protocol in `paths` (files, or directories of *.yaml).

    Each document must parse and be self-consistent and name only perturbation tables the hub has; with a
    `catalogue`, its datasets and fields must also be known to it; no two files may hold the same id@version.
    Raises ProtocolError listing the problems of every failing file (named by path), and FileNotFoundError for a
    path that does not exist.
    """
    protocols: dict[str, tuple[Protocol, Path]] = {}
    problems: list[Problem] = []
    for path in protocol_paths(paths):
        if not path.exists():
            raise FileNotFoundError(f"no protocol file or directory at {path}")
        try:
            protocol = parse_protocol(path.read_text(encoding="utf-8"), str(path))
        except ProtocolError as exc:
            problems += exc.problems
            continue
        if catalogue is not None:
            problems += catalogue_problems(protocol, str(path), catalogue)
        problems += table_problems(protocol, str(path))
        if protocol.label in protocols:
            problems.append(
                Problem(str(path), "version", f"{protocol.label} is also in {protocols[protocol.label][1]}")
            )
        protocols.setdefault(protocol.label, (protocol, path))
    if problems:
        raise ProtocolError(problems)
    return ProtocolRegister(protocol for protocol, _ in protocols.values())


def register_at(paths: Sequence[Path]) -> ProtocolRegister:
    """The register of the protocols at `paths`, or of the packaged protocols when `paths` is empty."""
    return load_register(paths or [packaged_protocols_dir()])


def configured_register() -> ProtocolRegister:
    """The register the hub enforces: HUB_PROTOCOLS_PATHS, or the packaged protocols when that is unset."""
    return register_at(configured_paths())
