"""The broker stopped (SIGTERM, and once SIGKILL) while `hub publish` and the worker run, and back 3 s later: the
publisher retries or fails loudly naming what was not acknowledged; the same file published again adds nothing
twice. And the credentials survive a broker restart after one partner was revoked and another rotated."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from pydantic import SecretStr

from deploy.broker_principals import BrokerAdmin, list_partners, revoke_partner, rotate_partner
from tests.faults.conftest import Stack, on_topic, progress, street_topic
from tests.support.audit import audit
from tests.support.hub import HubEnv, Worker, group_members, publish, publishing, wait_for


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_broker_stopped_mid_publish_and_back_loses_and_doubles_nothing(
    hub_env: HubEnv, stack: Stack, police_file: Path, tmp_path: Path, sig: signal.Signals
) -> None:
    topic = street_topic(hub_env)
    rows = sum(1 for _ in police_file.open(encoding="utf-8")) - 1
    worker = Worker(hub_env, tmp_path / "worker.log")
    try:
        # in its group before the publish starts: a worker whose start-up meets the broker down exits (faust's
        # bootstrap raises), and `hub publish` puts a quarter of the file on the topic faster than a worker starts
        wait_for(lambda: group_members(hub_env) == 1, 180, "the worker in its group")
        publisher = publishing(hub_env, "police-uk-street", police_file)
        wait_for(lambda: on_topic(hub_env, topic) >= rows // 4, 180, "a quarter of the file on the topic")
        stack.kill_broker(sig)
        time.sleep(3)
        stack.start()
        back, before = time.monotonic(), progress(hub_env)
        wait_for(lambda: progress(hub_env) > before, 240, "a batch committed after the broker came back")
        recovery = time.monotonic() - back
        out, err = publisher.communicate(timeout=300)
        if publisher.returncode != 0:  # it may fail, but loudly: the events not acknowledged, counted
            assert publisher.returncode == 3 and "were not delivered" in out, (publisher.returncode, out, err[-2000:])
        again = publish(hub_env, "police-uk-street", police_file)
        assert again.returncode == 0, again.stderr[-2000:]
        worker.wait_until_loaded(timeout=300)
    finally:
        worker.stop()
    result = audit(hub_env, [topic], f"broker {sig.name}, back after 3 s", recovery)
    print(result.line())
    result.check()
    assert result.published == rows


def test_credentials_survive_a_broker_restart_after_a_revocation_and_a_rotation(hub_env: HubEnv, stack: Stack) -> None:
    revoked = hub_env.partner("revoked-partner", ["police-uk-street"])
    rotated = hub_env.partner("rotated-partner", ["police-uk-street"])
    kept = hub_env.partner("kept-partner", ["police-uk-street"])
    with BrokerAdmin(hub_env.admin, client_id="test-faults") as admin:
        revoke_partner(admin, hub_env.prefix, "revoked-partner")
        password = rotate_partner(admin, hub_env.prefix, "rotated-partner")
    rotated_now = rotated.model_copy(update={"password": SecretStr(password)})
    for sig in (signal.SIGTERM, signal.SIGKILL):  # a clean stop, then none
        stack.kill_broker(sig)
        stack.start()  # returns once the admin signs in: the broker's own and the admin's credentials survived
    with BrokerAdmin(hub_env.admin, client_id="test-faults") as admin:
        signs_in = {
            name: admin._signs_in(access.username, access.password.get_secret_value())
            for name, access in {
                "revoked": revoked,
                "rotated (old)": rotated,
                "rotated": rotated_now,
                "kept": kept,
            }.items()
        }
        listed = {grant.partner for grant in list_partners(admin, hub_env.prefix)}
    assert signs_in == {"revoked": False, "rotated (old)": False, "rotated": True, "kept": True}
    assert listed == {"rotated-partner", "kept-partner"}
