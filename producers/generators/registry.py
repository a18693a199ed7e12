"""Finds the feed generators: every module of producers.generators that declares `GENERATOR`."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from producers import generators
from producers.generators.base import FeedGenerator


@cache
def all_generators() -> dict[str, FeedGenerator]:
    """Generators by dataset name."""
    found: dict[str, FeedGenerator] = {}
    for info in sorted(pkgutil.iter_modules(generators.__path__), key=lambda i: i.name):
        generator = getattr(importlib.import_module(f"{generators.__name__}.{info.name}"), "GENERATOR", None)
        if isinstance(generator, FeedGenerator):
            found[generator.dataset] = generator
    return found
