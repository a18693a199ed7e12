"""Topic names, the wire contract between producers and the worker.

Each partner publishes each dataset on a topic of its own, `<prefix>.events.<dataset>.<partner>`: the broker's
ACLs let a partner write only its own topics, so the topic an event arrives on says who sent it. One dead-letter
topic per deployment holds what the worker could not load. A deployment chooses the prefix (`hub` unless
configured); the rest of each name is fixed here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sharing_protocols.catalogue import CATALOGUE

_SLUG = r"[a-z0-9][a-z0-9-]{0,63}"  # the envelope's partner and dataset ids


@dataclass(frozen=True)
class TopicSource:
    """What a partner topic's name says: the dataset it carries and the partner that alone may write it."""

    dataset: str
    partner: str


def events_prefix(prefix: str) -> str:
    """The start every partner topic name of the deployment shares (the worker's read ACL is on it)."""
    return f"{prefix}.events."


def partner_topic(prefix: str, dataset: str, partner: str) -> str:
    """The topic on which `partner` publishes `dataset`."""
    return f"{events_prefix(prefix)}{dataset}.{partner}"


def partner_topic_pattern(prefix: str) -> re.Pattern[str]:
    """Matches the deployment's partner topics of catalogued datasets (groups `dataset` and `partner`)."""
    datasets = "|".join(re.escape(name) for name in sorted(CATALOGUE, key=len, reverse=True))
    return re.compile(rf"^{re.escape(events_prefix(prefix))}(?P<dataset>{datasets})\.(?P<partner>{_SLUG})$")


def topic_source(prefix: str, topic: str) -> TopicSource | None:
    """The dataset and partner of a partner topic of this deployment; None for any other name."""
    match = partner_topic_pattern(prefix).match(topic)
    return TopicSource(match["dataset"], match["partner"]) if match else None


def partner_principal(prefix: str, partner: str) -> str:
    """The broker username (SCRAM principal) of partner `partner` on the deployment of topic prefix `prefix`: the
    one principal that may write its topics."""
    return f"{prefix}.partner.{partner}"


def dead_letter_topic(prefix: str) -> str:
    """The topic of messages the worker could not load (reason in their headers)."""
    return f"{prefix}.dead-letter"
