"""`hub demo`'s users' keys: one per demo user (analyst, IG lead, partner), real keys for the right organisation and
role, in a file only its owner can read; kept while valid, all reissued when one is not."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from deploy.cli.demo import DEMO_USERS, _save_demo_api_keys
from tests.support.hub import HubEnv
from warehouse.governance.keys import revoke_key, split_token, verify_key
from warehouse.schema.db import session_scope

pytestmark = pytest.mark.integration


def _read(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def test_demo_keys_are_real_private_and_reissued_when_one_is_revoked(hub_env: HubEnv, tmp_path: Path) -> None:
    keys_file = tmp_path / "demo-keys.env"
    keys_file.write_text("HUB_DEMO_ANALYST_KEY=stale\n")  # an older demo's file, readable by all
    keys_file.chmod(0o644)
    with session_scope(hub_env.engine) as session:
        _save_demo_api_keys(session, keys_file)
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    first = _read(keys_file)
    assert set(first) == {"HUB_DEMO_ANALYST_KEY", "HUB_DEMO_IG_LEAD_KEY", "HUB_DEMO_PARTNER_KEY"}
    with session_scope(hub_env.engine) as session:
        owners = {name: verify_key(session, token) for name, token in first.items()}
        assert {name: (o.org, o.role) for name, o in owners.items() if o} == {
            "HUB_DEMO_ANALYST_KEY": ("eastbourne-csp", "analyst"),
            "HUB_DEMO_IG_LEAD_KEY": ("hub", "ig_lead"),
            "HUB_DEMO_PARTNER_KEY": ("sussex-police", "partner"),
        }
        _save_demo_api_keys(session, keys_file)
    assert _read(keys_file) == first  # valid keys are kept
    parts = split_token(first["HUB_DEMO_PARTNER_KEY"])
    assert parts is not None
    with session_scope(hub_env.engine) as session:
        assert revoke_key(session, parts[0])
    with session_scope(hub_env.engine) as session:
        _save_demo_api_keys(session, keys_file)
    again = _read(keys_file)
    assert set(again) == set(DEMO_USERS) and all(again[name] != first[name] for name in DEMO_USERS)
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
