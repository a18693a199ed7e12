"""The worker killed with SIGKILL at random moments, three times, while it loads about 40,600 events, and restarted
each time: nothing is lost and nothing doubled. Recovery: from each kill to the next batch committed.

With a group instance id (static membership, HUB_WORKER_INSTANCE_ID) the restarted worker takes its partitions
back without waiting for the killed one's session to end: recovery is then the worker's start-up and one join."""

from __future__ import annotations

import random
import time
from functools import partial
from pathlib import Path

from tests.faults.conftest import Stack, progress, street_topic
from tests.support.audit import audit
from tests.support.hub import HubEnv, Worker, group_instance_ids, publishing, wait_for

KILLS = 3
INSTANCE_ID = "hub-worker-0"
# Long (docs/deploy.md suggests 30 s), so that even a start-up slowed by a loaded machine is told apart from a wait for
# the killed member's session, which ends between STATIC_SESSION_S - HEARTBEAT_S and STATIC_SESSION_S after the kill
# (the worker heartbeats every HEARTBEAT_S).
STATIC_SESSION_S = 60.0
HEARTBEAT_S = 3.0
LEAVE_S = 10.0  # a stopped static worker out of the group within this (its session: STATIC_SESSION_S)
# Batches of this many (the default, 20,000, loads the file in two or three), so that every kill comes with load left.
BATCHES = {"HUB_WORKER_BATCH_SIZE": "2000"}
STARTING, READY = "[^Worker]: Starting...", "[^Worker]: Ready"  # faust's worker starting; in the group, loading


def _reached(hub: HubEnv, committed: int) -> bool:
    return progress(hub) >= committed


def test_a_worker_killed_three_times_mid_load_loses_and_doubles_nothing(
    hub_env: HubEnv, stack: Stack, police_file: Path, tmp_path: Path
) -> None:
    chance = random.Random()
    log = tmp_path / "worker.log"
    worker = Worker(hub_env, log, BATCHES)
    recoveries = []
    try:
        publisher = publishing(hub_env, "police-uk-street", police_file)  # the kills come while it publishes, too
        for n in range(KILLS):
            target = progress(hub_env) + chance.randint(1_000, 6_000)  # somewhere in the next few batches
            wait_for(partial(_reached, hub_env, target), 180, f"loading before kill {n + 1}")
            time.sleep(chance.uniform(0, 0.5))
            worker.kill()
            killed_at, before = time.monotonic(), progress(hub_env)
            worker = Worker(hub_env, log, BATCHES)
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


def _logged(log: Path, line: str, times: int) -> bool:
    return log.read_text(errors="replace").count(line) > times


def test_a_static_worker_killed_mid_load_takes_its_partitions_back_before_its_session_ends(
    hub_env: HubEnv, stack: Stack, police_file: Path, tmp_path: Path
) -> None:
    chance = random.Random()
    log = tmp_path / "worker.log"
    static = {
        **BATCHES,
        "HUB_WORKER_INSTANCE_ID": INSTANCE_ID,
        "HUB_WORKER_SESSION_TIMEOUT_SECONDS": str(STATIC_SESSION_S),
    }
    worker = Worker(hub_env, log, static)
    # Per kill, seconds from the kill to: faust starting (imports, geocoder, topics), the worker ready (in the group,
    # its partitions assigned), the next batch committed (the recovery).
    figures: list[tuple[float, float, float]] = []
    try:
        publisher = publishing(hub_env, "police-uk-street", police_file)
        wait_for(lambda: group_instance_ids(hub_env) == [INSTANCE_ID], 120, "the worker in the group by its id")
        for n in range(KILLS):
            target = progress(hub_env) + chance.randint(1_000, 6_000)
            wait_for(partial(_reached, hub_env, target), 180, f"loading before kill {n + 1}")
            time.sleep(chance.uniform(0, 0.5))
            starts = log.read_text(errors="replace").count(STARTING)
            worker.kill()
            killed_at, before = time.monotonic(), progress(hub_env)
            worker = Worker(hub_env, log, static)
            wait_for(partial(_logged, log, STARTING, starts), 180, f"faust starting after kill {n + 1}", 0.02)
            started = time.monotonic() - killed_at
            wait_for(partial(_logged, log, READY, starts), 180, f"the worker ready after kill {n + 1}", 0.02)
            ready = time.monotonic() - killed_at
            wait_for(partial(_reached, hub_env, before + 1), 180, f"a batch committed after kill {n + 1}", 0.05)
            figures.append((started, ready, time.monotonic() - killed_at))
        _, err = publisher.communicate(timeout=300)
        assert publisher.returncode == 0, err[-2000:]
        worker.wait_until_loaded(timeout=300)
        assert group_instance_ids(hub_env) == [INSTANCE_ID]  # one member, still by its id
        # Stopped on request (SIGTERM) it leaves the group itself: its partitions are not held for its session.
        worker.stop()
        left = wait_for(lambda: group_instance_ids(hub_env) == [], LEAVE_S, "the stopped worker out of the group")
        assert f"left the group as static member {INSTANCE_ID}" in log.read_text(errors="replace")
    finally:
        worker.stop()
    print(
        f"static member, session {STATIC_SESSION_S:.0f} s; seconds from each kill to faust starting, ready, "
        f"a batch committed: {'; '.join(' / '.join(f'{f:.1f}' for f in kill) for kill in figures)}; "
        f"out of the group {left:.1f} s after it exited on SIGTERM"
    )
    recovery = max(kill[2] for kill in figures)
    # A new member would have waited for the killed one's session: at least STATIC_SESSION_S - HEARTBEAT_S.
    assert recovery < STATIC_SESSION_S - HEARTBEAT_S, figures
    result = audit(hub_env, [street_topic(hub_env)], "static worker SIGKILL x3", recovery)
    print(result.line())
    result.check()
