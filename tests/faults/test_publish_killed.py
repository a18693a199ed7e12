"""`hub publish` killed with SIGKILL about a quarter through a file, then run again on the same file, while the
worker loads: the warehouse holds each event once."""

from __future__ import annotations

from pathlib import Path

from tests.faults.conftest import Stack, on_topic, street_topic
from tests.support.audit import audit
from tests.support.hub import HubEnv, Worker, publish, publishing, wait_for


def test_a_publish_killed_a_quarter_through_and_run_again_publishes_nothing_twice(
    hub_env: HubEnv, stack: Stack, police_file: Path, tmp_path: Path
) -> None:
    topic = street_topic(hub_env)
    rows = sum(1 for _ in police_file.open(encoding="utf-8")) - 1
    worker = Worker(hub_env, tmp_path / "worker.log")
    try:
        first = publishing(hub_env, "police-uk-street", police_file)
        wait_for(lambda: on_topic(hub_env, topic) >= rows // 4, 180, "a quarter of the file on the topic")
        first.kill()
        first.communicate()
        halfway = on_topic(hub_env, topic)
        assert halfway < rows, "the publish finished before it was killed"
        again = publish(hub_env, "police-uk-street", police_file)
        assert again.returncode == 0, again.stderr[-2000:]
        worker.wait_until_loaded(timeout=300)
    finally:
        worker.stop()
    result = audit(hub_env, [topic], f"publish SIGKILL at {halfway} of {rows}, re-run")
    print(result.line())
    result.check()
    assert result.published == rows
