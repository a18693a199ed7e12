"""Two workers in one consumer group, then four; one killed with SIGKILL and another added (each a rebalance): the
same audit holds.

The load is published in stages, each once the group is in the state it tests, so that it spans every change of the
group however fast publishing and loading are (a single file was loaded by the first two workers before four had
formed): the three forces' file is split into `SHARES` by a digest of each row (identical rows, police.uk ASB without
a crime id, stay together and in order, so every event id is the one publishing the whole file gives).

1. two workers formed: stage 1, loaded by both;
2. four formed: stage 2; one of the first two killed as soon as it has loaded some of it (the rest of its partitions
   not yet committed);
3. at once a fifth worker started and stage 3 published: recovery runs from the kill until every partition has
   committed again (the killed worker's included, which move only once the group has rebalanced without it); each
   of the other three has loaded some of stages 2 and 3;
4. four formed again, the fifth among them: stage 4, loaded by each of the four; then the audit.

Which worker loaded what is read from each worker's own log ("batch of N: ..." per batch committed), apart from the
warehouse the audit reads; recovery from the group's committed offsets.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
import zlib
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from itertools import accumulate
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from deploy.lag import lag_by_topic
from stream_processors.settings import loader_group
from tests.faults.conftest import Stack, street_topic
from tests.support.audit import audit
from tests.support.hub import HubEnv, Services, Worker, create_hub, group_members, publish, publishing, wait_for

# Partitions of each of the case's topics: eight, not the default three, so that each of four members holds two.
# (Before the app set no table standbys, faust's assignor kept what members had up to ceil(partitions / members),
# and with six the fifth worker, joining three that held two each, got none: tests/unit/stream_processors/
# test_group_assignment.py.) HUB_TEST_SCALE_OUT_PARTITIONS overrides it, to try other layouts.
PARTITIONS = int(os.environ.get("HUB_TEST_SCALE_OUT_PARTITIONS", "8"))
SHARES = (0.35, 0.30, 0.20, 0.15)  # of the rows, per stage
BATCH_SIZE = 1000  # several batches per worker and stage (the default, 20,000, loads a worker's stage in one)
BATCH = re.compile(r"batch of (\d+):")


@pytest.fixture
def hub_env(services: Services, shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubEnv]:
    """The suite's fresh hub, its topics made with `PARTITIONS` partitions (HUB_KAFKA_PARTITIONS, as an operator
    sets it; the workers, started from this environment, agree)."""
    monkeypatch.setenv("HUB_KAFKA_PARTITIONS", str(PARTITIONS))
    yield from create_hub(services, [], shared_data)


def _stages(police_file: Path, directory: Path) -> list[Path]:
    """`police_file` in parts of about `SHARES` of its rows, each with the header; a row's part is chosen by a digest
    of the row, so identical rows stay together, in their order."""
    header, *rows = police_file.read_text(encoding="utf-8").splitlines(keepends=True)
    bounds = list(accumulate(SHARES))
    parts: list[list[str]] = [[header] for _ in SHARES]
    for row in rows:
        share = zlib.crc32(row.encode("utf-8")) / 2**32
        parts[min(bisect_right(bounds, share), len(SHARES) - 1)].append(row)
    paths = [directory / f"stage-{n + 1}.csv" for n in range(len(SHARES))]
    for path, lines in zip(paths, parts, strict=True):
        path.write_text("".join(lines), encoding="utf-8")
    return paths


def _batches(worker: Worker) -> int:
    """Messages in the batches the worker has committed, as its own log says."""
    return sum(int(n) for n in BATCH.findall(worker.log.read_text(encoding="utf-8", errors="replace")))


def _counts(workers: Sequence[Worker]) -> list[int]:
    return [_batches(worker) for worker in workers]


def _offsets(hub: HubEnv, topic: str) -> tuple[dict[int, int], dict[int, int]]:
    """Per partition of `topic`: the loader group's committed offset (0 where none) and the end offset."""
    options = hub.admin.kafka_python()
    consumer = KafkaConsumer(**options, client_id="tests-offsets")
    admin = KafkaAdminClient(**options, client_id="tests-offsets")
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        ends = consumer.end_offsets(partitions)
        group = loader_group(hub.prefix)
        found = admin.list_group_offsets({group: partitions}).get(group, {})
    finally:
        admin.close()
        consumer.close()
    committed = {tp.partition: max(meta.offset, 0) for tp, meta in found.items() if meta is not None}
    return {tp.partition: committed.get(tp.partition, 0) for tp in partitions}, {
        tp.partition: ends[tp] for tp in partitions
    }


def _loaded(hub: HubEnv) -> bool:
    return not any(lag_by_topic(hub.kafka, access=hub.admin).values())


def _published(publisher: subprocess.Popen[str]) -> None:
    """Wait for a `hub publish` started earlier; it must have published every row."""
    _, err = publisher.communicate(timeout=300)
    assert publisher.returncode == 0, err[-2000:]


def _publish(hub: HubEnv, stage: Path) -> None:
    done = publish(hub, "police-uk-street", stage)
    assert done.returncode == 0, done.stderr[-2000:]


def _each_loaded(workers: Sequence[Worker], since: Sequence[int], stage: str) -> None:
    """Every one of `workers` has committed a batch since its counts `since` (fails naming those that have not)."""
    idle = [w.log.stem for w, now, before in zip(workers, _counts(workers), since, strict=True) if now <= before]
    assert not idle, f"{stage}: {', '.join(idle)} of the {len(workers)} in the group loaded nothing"


def test_two_then_four_workers_one_killed_and_one_added_under_staged_load_lose_and_double_nothing(
    hub_env: HubEnv, stack: Stack, police_file: Path, tmp_path: Path
) -> None:
    topic = street_topic(hub_env)
    stages = _stages(police_file, tmp_path)
    settings = {"HUB_WORKER_BATCH_SIZE": str(BATCH_SIZE)}
    workers = [Worker(hub_env, tmp_path / f"worker-{n}.log", settings) for n in range(2)]
    try:
        # 1. Two workers.
        wait_for(lambda: group_members(hub_env) == 2, 120, "two workers in the group")
        _publish(hub_env, stages[0])
        wait_for(lambda: all(_counts(workers)), 180, "both workers loading stage 1")
        workers += [Worker(hub_env, tmp_path / f"worker-{n}.log", settings) for n in (2, 3)]
        wait_for(lambda: group_members(hub_env) == 4, 300, "four workers in the group")  # a start: a minute under load
        wait_for(lambda: _loaded(hub_env), 300, "stage 1 loaded")
        # 2. Four workers: stage 2; the first killed as soon as it loads some of it.
        before = _counts(workers)
        publishers = [publishing(hub_env, "police-uk-street", stages[1])]
        wait_for(lambda: _batches(workers[0]) > before[0], 180, "the first worker loading stage 2")
        workers[0].kill()
        killed_at = time.monotonic()
        at_kill, ends = _offsets(hub_env, topic)
        # 3. A fifth worker started and stage 3 published at once (beside the rest of stage 2): load follows the
        # kill; every partition commits again, the killed worker's once the group has rebalanced without it.
        workers.append(Worker(hub_env, tmp_path / "worker-4.log", settings))  # a start: a minute under load
        publishers.append(publishing(hub_env, "police-uk-street", stages[2]))
        wait_for(
            lambda: all(now > at_kill[p] for p, now in _offsets(hub_env, topic)[0].items()),
            300,
            "every partition committing again after the kill",
        )
        recovery = time.monotonic() - killed_at
        _each_loaded(workers[1:4], before[1:], "stages 2 and 3")
        for publisher in publishers:
            _published(publisher)
        # 4. Four again, the fifth among them (the killed one has left: its partitions committed since).
        wait_for(lambda: group_members(hub_env) == 4, 300, "the added worker in the group")
        wait_for(lambda: _loaded(hub_env), 300, "stage 3 loaded")
        live, before = workers[1:], _counts(workers[1:])
        _publish(hub_env, stages[3])
        workers[1].wait_until_loaded(timeout=300)
        _each_loaded(live, before, "stage 4")
        counts = _counts(workers)
    finally:
        for worker in workers:
            worker.stop()
    result = audit(hub_env, [topic], "2 then 4 workers, one killed, one added", recovery)
    print(result.line())
    uncommitted = sum(ends[p] - at_kill[p] for p in ends)
    print(f"  messages in each worker's batches {counts}; on the topic but not committed at the kill {uncommitted}")
    result.check()
