"""Topic names, the wire contract between producers and the worker: one events topic per dataset, one dead-letter.

A deployment chooses the prefix (`hub` unless configured); the rest of each name is fixed here.
"""

from __future__ import annotations

from sharing_protocols.catalogue import CATALOGUE


def events_topic(prefix: str, dataset: str) -> str:
    """The topic that carries one dataset's events."""
    return f"{prefix}.events.{dataset}"


def dead_letter_topic(prefix: str) -> str:
    """The topic of messages the worker could not load (reason in their headers)."""
    return f"{prefix}.dead-letter"


def dataset_topics(prefix: str) -> dict[str, str]:
    """Each dataset's events topic, mapped to the dataset it carries."""
    return {events_topic(prefix, name): name for name in CATALOGUE}
