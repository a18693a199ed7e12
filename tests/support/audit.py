"""The accounting audit after a load: what is on the topics, read independently, against what the warehouse holds.

Every distinct event id published ends in exactly one place (loaded in `event`, withheld by a decision, or
dead-lettered), and so does every malformed message (keyed by no event id: a dead letter); no event id is stored
twice; no event has two released decisions for the same content; the trigger-kept `event_count` equals a GROUP BY
over `event`. `Audit.line()` is the one line a fault case prints.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from kafka import KafkaConsumer, TopicPartition

from tests.support.hub import HubEnv

# The grouping of event_count (migration 0006).
EVENT_COUNT_KEY = (
    "dataset, period_month, category, ward_code, ward_vintage, district_code, csp_code, county_code, pfa_code, "
    "location_status, protocols"
)


@dataclass(frozen=True)
class Published:
    """What the topics hold: every message, the distinct event ids among their keys, the malformed messages."""

    messages: int
    events: frozenset[str]
    malformed: int


def is_event_id(key: bytes | None) -> bool:
    """Whether a message key is an event id (a UUID in its canonical form)."""
    try:
        return key is not None and str(uuid.UUID(key.decode("ascii"))) == key.decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return False


def read_published(hub_env: HubEnv, topics: Iterable[str]) -> Published:
    """Every message on `topics`, read from the start to the end of each partition as the operator."""
    consumer = KafkaConsumer(**hub_env.admin.kafka_python(), client_id="test-audit", enable_auto_commit=False)
    messages, malformed, events = 0, 0, set()
    try:
        partitions = [
            TopicPartition(topic, p) for topic in topics for p in sorted(consumer.partitions_for_topic(topic) or [])
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        ends = consumer.end_offsets(partitions)
        while any(consumer.position(tp) < ends[tp] for tp in partitions):
            for records in consumer.poll(timeout_ms=1000).values():
                for record in records:
                    messages += 1
                    if is_event_id(record.key):
                        events.add(record.key.decode("ascii"))
                    else:
                        malformed += 1
    finally:
        consumer.close()
    return Published(messages, frozenset(events), malformed)


@dataclass(frozen=True)
class Audit:
    """The figures of one audit, and whether they add up."""

    case: str
    published: int  # distinct event ids on the topics
    malformed: int  # messages keyed by no event id
    loaded: int  # rows of `event`
    withheld: int  # events withheld by a decision and not loaded
    dead: int  # dead letters: distinct event ids not otherwise accounted for, plus those keyed by no event id
    duplicates: int  # event ids stored more than once
    double_released: int  # (event, content) pairs with two released decisions
    count_mismatches: int  # event_count rows that differ from a GROUP BY over event
    recovery_s: float | None = None

    @property
    def balanced(self) -> bool:
        return self.loaded + self.withheld + self.dead == self.published + self.malformed

    def line(self) -> str:
        """The one line a fault case prints."""
        recovery = "-" if self.recovery_s is None else f"{self.recovery_s:.1f} s"
        return (
            f"FAULT {self.case}: published {self.published} (+{self.malformed} malformed), loaded {self.loaded}, "
            f"withheld {self.withheld}, dead-lettered {self.dead}, duplicates {self.duplicates}, "
            f"double releases {self.double_released}, event_count mismatches {self.count_mismatches}, "
            f"recovery {recovery}"
        )

    def check(self) -> None:
        """Fail (with the line) unless every event is accounted for exactly once and the counts agree."""
        assert self.published > 0, self.line()
        assert self.balanced, self.line()
        assert (self.duplicates, self.double_released, self.count_mismatches) == (0, 0, 0), self.line()


def _count(hub_env: HubEnv, sql: str) -> int:
    [(n,)] = hub_env.query(sql)
    return int(n)


def _rows(found: list[tuple[object, ...]]) -> Counter[tuple[object, ...]]:
    return Counter(tuple(tuple(v) if isinstance(v, list) else v for v in row) for row in found)


def audit(hub_env: HubEnv, topics: Iterable[str], case: str = "audit", recovery_s: float | None = None) -> Audit:
    """The audit of `hub_env`'s warehouse against `topics` (read now, independently of the worker)."""
    published = read_published(hub_env, topics)
    loaded = _count(hub_env, "SELECT count(*) FROM event")
    withheld = _count(
        hub_env,
        "SELECT count(DISTINCT event_id) FROM decision d WHERE outcome = 'withheld' "
        "AND NOT EXISTS (SELECT 1 FROM event e WHERE e.event_id = d.event_id)",
    )
    dead = _count(
        hub_env,
        "SELECT count(DISTINCT event_key) FROM dead_letter l WHERE event_key IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM event e WHERE e.event_id::text = l.event_key) "
        "AND NOT EXISTS (SELECT 1 FROM decision d WHERE d.event_id::text = l.event_key AND outcome = 'withheld')",
    ) + _count(hub_env, "SELECT count(*) FROM dead_letter WHERE event_key IS NULL")
    duplicates = loaded - _count(hub_env, "SELECT count(DISTINCT event_id) FROM event")
    double_released = _count(
        hub_env,
        "SELECT count(*) FROM (SELECT 1 FROM decision WHERE outcome = 'released' AND replay_id IS NULL "
        "GROUP BY event_id, content_hash HAVING count(*) > 1) twice",
    )
    kept = _rows(hub_env.query(f"SELECT {EVENT_COUNT_KEY}, events FROM event_count WHERE events <> 0"))
    computed = _rows(hub_env.query(f"SELECT {EVENT_COUNT_KEY}, count(*) FROM event GROUP BY {EVENT_COUNT_KEY}"))
    mismatches = sum(((kept - computed) + (computed - kept)).values())
    return Audit(
        case,
        len(published.events),
        published.malformed,
        loaded,
        withheld,
        dead,
        duplicates,
        double_released,
        mismatches,
        recovery_s,
    )
