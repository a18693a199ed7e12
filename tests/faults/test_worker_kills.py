"""The worker killed with SIGKILL at random moments, three times, while it loads about 40,600 events, and restarted
each time: nothing is lost and nothing doubled. Recovery: from each kill to the next batch committed."""

from __future__ import annotations

import random
import time
from functools import partial
from pathlib import Path

from tests.faults.conftest import Stack, progress, street_topic
from tests.support.audit import audit
from tests.support.hub import HubEnv, Worker, publishing, wait_for

KILLS = 3


def _reached(hub: HubEnv, committed: int) -> bool:
    return progress(hub) >= committed


def test_a_worker_killed_three_times_mid_load_loses_and_doubles_nothing(
    hub_env: HubEnv, stack: Stack, police_file: Path, tmp_path: Path
) -> None:
    chance = random.Random()
    log = tmp_path / "worker.log"
    worker = Worker(hub_env, log)
    recoveries = []
    try:
        publisher = publishing(hub_env, "police-uk-street", police_file)  # the kills come while it publishes, too
        for n in range(KILLS):
            target = progress(hub_env) + chance.randint(1_000, 6_000)  # somewhere in the next few batches
            wait_for(partial(_reached, hub_env, target), 180, f"loading before kill {n + 1}")
            time.sleep(chance.uniform(0, 0.5))
            worker.kill()
            killed_at, before = time.monotonic(), progress(hub_env)
            worker = Worker(hub_env, log)
            wait_for(partial(_reached, hub_env, before + 1), 180, f"a batch committed after kill {n + 1}")
            recoveries.append(time.monotonic() - killed_at)
        _, err = publisher.communicate(timeout=300)
        assert publisher.returncode == 0, err[-2000:]
        worker.wait_until_loaded(timeout=300)
    finally:
        worker.stop()
    result = audit(hub_env, [street_topic(hub_env)], "worker SIGKILL x3", max(recoveries))
    print(result.line())
    result.check()
