"""stream_processors.replay: what a replay counts, and how it names partitions."""

from __future__ import annotations

import uuid
from datetime import date

from aiokafka import TopicPartition

from stream_processors.batch import BatchResult
from stream_processors.replay import Extent, counted, label
from warehouse.governance.replays import ReplayCounts
from warehouse.sink import DeadLetterRow, DecisionRow, RetractionRow

TOPIC = "hub.events.police-uk-street.sussex-police"


def _decision(outcome: str) -> DecisionRow:
    return DecisionRow(uuid.uuid4(), "h", "police-uk-street", "sussex-police", date(2019, 1, 1), outcome, None, None,
                       (), (), (), None)  # fmt: skip


def test_each_message_of_a_batch_is_counted_once_by_what_it_became() -> None:
    result = BatchResult(
        events=[],
        dead_letters=[DeadLetterRow(TOPIC, 0, 5, None, None, None, "empty payload")],
        decisions=[_decision("released"), _decision("released"), _decision("withheld")],
        retractions=[RetractionRow(uuid.uuid4(), "police-uk-street", "sussex-police", TOPIC, 0, 6, final=True)],
    )
    after = counted(ReplayCounts(messages=10, released=10), 6, result)
    assert after == ReplayCounts(messages=16, released=12, withheld=1, retracted=1, dead_lettered=1)


def test_a_partition_is_named_topic_slash_partition_and_its_extent_counts_what_is_left() -> None:
    assert label(TopicPartition(TOPIC, 2)) == f"{TOPIC}/2"
    assert Extent(first=40, end=100).messages == 60
    assert Extent(first=100, end=100).messages == 0
