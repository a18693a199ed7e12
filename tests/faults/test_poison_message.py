"""A poison message: a valid envelope that makes the loader's transaction fail (a trigger in this case's database
raises for its event). It goes to the dead-letter topic with its reason (error kind and SQLSTATE) and its partition
loads past it."""

from __future__ import annotations

from pathlib import Path

from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import text

from tests.faults.conftest import Stack, street_topic
from tests.support.audit import audit
from tests.support.hub import HubEnv, Worker, publish


def _messages(hub: HubEnv, topic: str) -> list[tuple[int, int, bytes | None, dict[str, bytes]]]:
    """(partition, offset, key, headers) of every message on `topic`, read as the operator."""
    consumer = KafkaConsumer(**hub.admin.kafka_python(), client_id="test-poison", enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        ends = consumer.end_offsets(partitions)
        found: list[tuple[int, int, bytes | None, dict[str, bytes]]] = []
        while any(consumer.position(tp) < ends[tp] for tp in partitions):
            for records in consumer.poll(timeout_ms=1000).values():
                found.extend((r.partition, r.offset, r.key, dict(r.headers or [])) for r in records)
        return found
    finally:
        consumer.close()


def test_a_poison_message_is_dead_lettered_with_its_reason_and_its_partition_loads_past_it(
    hub_env: HubEnv, stack: Stack, police_file: Path, tmp_path: Path
) -> None:
    topic = street_topic(hub_env)
    done = publish(hub_env, "police-uk-street", police_file)
    assert done.returncode == 0, done.stderr[-2000:]
    on_zero = sorted((offset, key) for partition, offset, key, _ in _messages(hub_env, topic) if partition == 0)
    offset, key = on_zero[len(on_zero) // 2]  # mid-partition: messages before and after it
    assert key is not None
    poison = key.decode()
    with hub_env.engine.begin() as conn:  # the owner's: the worker's role cannot drop it
        conn.execute(
            text(
                "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'refused for the fault suite'; END $$"
            )
        )
        conn.execute(
            text(
                "CREATE TRIGGER refuse_poison BEFORE INSERT ON decision FOR EACH ROW "
                f"WHEN (NEW.event_id = '{poison}'::uuid) EXECUTE FUNCTION refuse_poison()"
            )
        )
    worker = Worker(hub_env, tmp_path / "worker.log")
    try:
        worker.wait_until_loaded(timeout=300)
    finally:
        worker.stop()
    reason = "load_failed: RaiseException sqlstate P0001"
    assert hub_env.query("SELECT source_partition, source_offset, event_key, reason FROM dead_letter") == [
        (0, offset, poison, reason)
    ]
    letters = [(k, h) for _, _, k, h in _messages(hub_env, hub_env.kafka.dead_letter_topic)]
    assert letters == [(key, letters[0][1])] and letters[0][1]["dlq.reason"] == reason.encode()
    assert letters[0][1]["dlq.source"] == f"{topic}/0/{offset}".encode()
    later = hub_env.query("SELECT count(*) FROM event WHERE source_partition = 0 AND source_offset > :o", o=offset)
    assert later[0][0] > 0  # the partition moved on past the poison
    assert "refused for the fault suite" not in worker.log.read_text()  # the error's text is never logged
    result = audit(hub_env, [topic], "poison message")
    print(result.line())
    result.check()
    assert result.dead == 1
