"""Keeps the loader consuming every partner topic of the deployment, including topics created while it runs.

faust-streaming 0.15.3 cannot subscribe to a pattern (its aiokafka driver passes topic names only), so the pattern
is resolved to names: at start by the caller, then every `topic_refresh_seconds` from a metadata request on the
app's own consumer connection (the worker's credential, nothing else to configure). New names are written into the
loader's subscribed channels and the topic conductor is told its subscription changed: it re-subscribes the
consumer after its coalescing pause (lowered here from faust's 45 s), the group rebalances, and the new partitions
are read from their start. Offsets are still acked only when a batch is committed (stream_processors.app).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import cast

import faust
from faust.transport.conductor import Conductor
from faust.transport.consumer import ThreadDelegateConsumer
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

from sharing_protocols.topics import topic_source

log = logging.getLogger(__name__)

RESUBSCRIBE_PAUSE = 1.0  # seconds the conductor waits to coalesce subscription changes (faust's default: 45)


def partner_topics_among(prefix: str, names: Iterable[str]) -> list[str]:
    """The partner topics of the deployment among `names`, sorted."""
    return sorted({name for name in names if topic_source(prefix, name) is not None})


class PartnerTopics:
    """The loader's subscription: every partner topic the broker has, checked again on each `refresh`."""

    def __init__(self, app: faust.App, prefix: str, topics: Iterable[str], settle_seconds: float = 30.0) -> None:
        self._app = app
        self._prefix = prefix
        self.topics = partner_topics_among(prefix, topics)
        self._settle = settle_seconds
        self._flagged_at: float | None = None
        cast(Conductor, app.topics)._resubscribe_sleep_lock_seconds = RESUBSCRIBE_PAUSE

    async def _listed(self) -> set[str]:
        """Every topic name the worker may see, asked of the broker on the consumer's connection."""
        consumer = cast(ThreadDelegateConsumer, self._app.consumer)
        thread = cast(AIOKafkaConsumerThread, consumer._thread)
        client = thread._ensure_consumer()
        return set(await thread.call_thread(client.topics))

    def _assigned(self) -> set[str]:
        return {tp.topic for tp in self._app.consumer.assignment()}

    def _flag(self) -> None:
        """Point the loader's channels at `topics` and have the conductor subscribe the consumer to them again."""
        conductor = self._app.topics
        channels = [c for c in conductor if any(topic_source(self._prefix, t) for t in c.topics)]
        for channel in channels:
            channel.topics = list(self.topics)
            conductor.discard(channel)  # public way to flag a change: the conductor re-subscribes after its pause
            conductor.add(channel)
        self._flagged_at = time.monotonic()

    async def refresh(self) -> list[str]:
        """Subscribe to partner topics created since the last look; returns the new ones.

        A change flagged while the group is rebalancing can be dropped by the conductor, so a topic still without
        assigned partitions `settle_seconds` after it was flagged is flagged again.
        """
        listed = partner_topics_among(self._prefix, await self._listed())
        new = [name for name in listed if name not in self.topics]
        if new:
            self.topics = sorted({*self.topics, *new})
            log.info("subscribing to %d new partner topic(s): %s", len(new), ", ".join(new))
            self._flag()
        elif self._flagged_at is not None and time.monotonic() - self._flagged_at > self._settle:
            if set(self.topics) - self._assigned():
                log.info("partner topics not yet assigned after %.0f s; asking the conductor again", self._settle)
                self._flag()
            else:
                self._flagged_at = None
        return new
