"""Two workers in one consumer group, then four; one killed with SIGKILL and one added mid-load (each a rebalance):
the same audit holds."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.faults.conftest import Stack, progress, street_topic
from tests.support.audit import audit
from tests.support.hub import HubEnv, Worker, group_members, publishing, wait_for


@pytest.mark.skip(
    reason="timing, not a product fault: since hub publish works its rows in a child process (2026-12-03) the file "
    "is loaded by the first two workers before four have formed, so no batch follows the kill (fresh-clone CI of "
    "e21ad3c: workers 2-4 loaded nothing; it passed twice before that); the case needs a load that outlasts the "
    "rebalances (a larger or paced publish)"
)
def test_two_then_four_workers_one_killed_and_one_added_mid_load_lose_and_double_nothing(
    hub_env: HubEnv, stack: Stack, police_file: Path, tmp_path: Path
) -> None:
    workers = [Worker(hub_env, tmp_path / f"worker-{n}.log") for n in range(2)]
    try:
        wait_for(lambda: group_members(hub_env) == 2, 120, "two workers in the group")
        publisher = publishing(hub_env, "police-uk-street", police_file)
        wait_for(lambda: progress(hub_env) >= 3_000, 180, "the first batches loaded")
        workers += [Worker(hub_env, tmp_path / f"worker-{n}.log") for n in (2, 3)]
        wait_for(
            lambda: group_members(hub_env) == 4, 300, "four workers in the group"
        )  # each start: a minute under load
        workers[0].kill()
        killed_at, before = time.monotonic(), progress(hub_env)
        workers.append(Worker(hub_env, tmp_path / "worker-4.log"))
        wait_for(lambda: progress(hub_env) > before, 180, "a batch committed after the kill")
        recovery = time.monotonic() - killed_at
        _, err = publisher.communicate(timeout=300)
        assert publisher.returncode == 0, err[-2000:]
        workers[1].wait_until_loaded(timeout=300)
    finally:
        for worker in workers:
            worker.stop()
    result = audit(hub_env, [street_topic(hub_env)], "2 then 4 workers, one killed, one added", recovery)
    print(result.line())
    result.check()
