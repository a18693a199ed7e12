"""The feeds the producer can read, one module per dataset in producers.feeds, each declaring `FEED`."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from typing import Any

from producers import feeds
from producers.feed import Feed
from sharing_protocols.catalogue import CATALOGUE, UnknownDatasetError

__all__ = ["FEEDS", "Feed", "UnknownDatasetError", "get_feed"]


def _discover() -> dict[str, Feed[Any]]:
    """Each dataset module of producers.feeds declares one feed as `FEED`, for a dataset of the catalogue."""
    found: dict[str, Feed[Any]] = {}
    for info in sorted(pkgutil.iter_modules(feeds.__path__), key=lambda i: i.name):
        feed = getattr(importlib.import_module(f"{feeds.__name__}.{info.name}"), "FEED", None)
        if isinstance(feed, Feed):
            if feed.name in found:
                raise RuntimeError(f"feed {feed.name!r} is declared twice")
            if CATALOGUE.get(feed.name) is not feed.spec:
                raise RuntimeError(f"feed {feed.name!r} is not for a dataset of the catalogue")
            found[feed.name] = feed
    return found


FEEDS: Mapping[str, Feed[Any]] = _discover()


def get_feed(name: str) -> Feed[Any]:
    """The feed of dataset `name`; UnknownDatasetError when there is none."""
    try:
        return FEEDS[name]
    except KeyError:
        known = ", ".join(sorted(FEEDS))
        raise UnknownDatasetError(f"unknown dataset {name!r}; known datasets: {known}") from None
