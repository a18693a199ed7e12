"""API keys as an IG lead signs them off: issued only to organisations the register names, stored only as hashes,
refused at once when revoked or expired, their last use recorded, listed without secrets."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, text
from typer.testing import CliRunner

from deploy.cli import app
from tests.support.hub import HubEnv

pytestmark = pytest.mark.integration

ENDPOINT = "/v1/indicators"  # needs a key (the public gets 401), answers 200 to an analyst on an empty warehouse


def _hub(hub_env: HubEnv, *args: str) -> tuple[int, str, str]:
    """Run `hub ARGS` against this hub; (exit code, stdout, stderr)."""
    result = CliRunner(env=hub_env.env).invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _plain(message: str) -> str:
    """A CLI message without the box it is drawn in or its line breaks."""
    return " ".join(message.replace("│", " ").split())


def _create(hub_env: HubEnv, *args: str) -> str:
    code, out, err = _hub(hub_env, "keys", "create", *args)
    assert code == 0, err
    return out.strip()


def _key_id(token: str) -> str:
    return token.split("_")[1]


def _row(hub_env: HubEnv, key_id: str) -> dict[str, object]:
    with hub_env.engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM api_key WHERE key_id = :k"), {"k": key_id}).mappings().one()
    return dict(row)


def _set(hub_env: HubEnv, key_id: str, assignment: str) -> None:
    with hub_env.engine.begin() as conn:
        conn.execute(text(f"UPDATE api_key SET {assignment} WHERE key_id = :k"), {"k": key_id})


def _refusals(hub_env: HubEnv) -> int:
    with hub_env.engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM access_log WHERE org = 'unknown' AND status = 401 AND endpoint = :e"),
                {"e": ENDPOINT},
            ).scalar_one()
        )


def _get(hub_env: HubEnv, token: str) -> tuple[int, object]:
    response = hub_env.client({"Authorization": f"Bearer {token}"}).get(ENDPOINT)
    return response.status_code, response.json()


def test_the_stored_row_holds_no_trace_of_the_token_or_its_secret(hub_env: HubEnv) -> None:
    token = _create(hub_env, "--org", "eastbourne-csp", "--role", "analyst")
    prefix, key_id, secret = token.split("_", 2)
    assert prefix == "hub" and len(secret) >= 40  # 32 random bytes, URL-safe base64
    with hub_env.engine.connect() as conn:
        table = conn.execute(text("SELECT row_to_json(k)::text FROM api_key k")).scalars().all()
        stored = conn.execute(text("SELECT secret_sha256 FROM api_key WHERE key_id = :k"), {"k": key_id}).scalar_one()
    assert table and not any(secret in row or token in row for row in table)
    assert not any(secret[:12] in row for row in table)  # not even a part of it
    assert stored == hashlib.sha256(secret.encode()).hexdigest()
    assert _get(hub_env, token)[0] == 200


def test_create_for_an_organisation_the_register_does_not_name_is_refused(hub_env: HubEnv) -> None:
    with hub_env.engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM api_key")).scalar_one()
    for org in ("surrey-police", "public", "eastbourne-csp-evil"):
        code, out, err = _hub(hub_env, "keys", "create", "--org", org, "--role", "analyst")
        assert code == 2 and out == "", (org, out, err)
        assert "--org" in err and f"'{org}' is not a data owner or recipient" in _plain(err)
    code, out, err = _hub(
        hub_env, "keys", "create", "--org", "eastbourne-csp", "--role", "analyst", "--expires", "2001-01-01"
    )
    assert code == 2 and out == "" and "in the past" in err
    with hub_env.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM api_key")).scalar_one() == before
    # the hub operator, a data owner and any org for a public key are accepted
    for org, role in (("hub", "ig_lead"), ("sussex-police", "partner"), ("a-parish-website", "public")):
        assert _create(hub_env, "--org", org, "--role", role).startswith("hub_")


def test_an_expiry_is_stored_and_an_expired_key_gets_the_401_of_a_revoked_one(hub_env: HubEnv) -> None:
    expiring = _create(hub_env, "--org", "essex-csp", "--role", "analyst", "--expires", "90d")
    expires_at = _row(hub_env, _key_id(expiring))["expires_at"]
    assert isinstance(expires_at, datetime)
    assert abs(expires_at - (datetime.now(UTC) + timedelta(days=90))) < timedelta(minutes=5)
    dated = _create(hub_env, "--org", "essex-csp", "--role", "analyst", "--expires", "2099-12-31")
    assert _row(hub_env, _key_id(dated))["expires_at"] == datetime(2100, 1, 1, tzinfo=UTC)  # GMT: UK midnight

    revoked = _create(hub_env, "--org", "essex-csp", "--role", "analyst")
    assert _get(hub_env, expiring)[0] == 200 and _get(hub_env, revoked)[0] == 200
    _set(hub_env, _key_id(expiring), "expires_at = now() - interval '1 second'")
    assert _hub(hub_env, "keys", "revoke", _key_id(revoked))[0] == 0
    refusals = _refusals(hub_env)
    expired_answer, revoked_answer = _get(hub_env, expiring), _get(hub_env, revoked)
    assert expired_answer[0] == 401 and expired_answer == revoked_answer  # nothing tells the two apart
    assert _refusals(hub_env) == refusals + 2  # each refusal is in the access log
    assert _get(hub_env, dated)[0] == 200


def test_a_revoked_key_is_refused_on_the_very_next_request(hub_env: HubEnv) -> None:
    token = _create(hub_env, "--org", "east-sussex-csp", "--role", "analyst")
    client = hub_env.client({"Authorization": f"Bearer {token}"})  # one client, one app, one connection pool
    assert [client.get(ENDPOINT).status_code for _ in range(3)] == [200, 200, 200]
    code, out, _ = _hub(hub_env, "keys", "revoke", _key_id(token))
    assert code == 0 and out.strip() == f"revoked {_key_id(token)}"
    assert client.get(ENDPOINT).status_code == 401
    assert _hub(hub_env, "keys", "revoke", _key_id(token))[0] == 1  # nothing left to revoke


def test_last_used_is_recorded_after_a_valid_use_only(hub_env: HubEnv) -> None:
    token = _create(hub_env, "--org", "eastbourne-csp", "--role", "ig_lead")
    key_id = _key_id(token)
    assert _row(hub_env, key_id)["last_used_at"] is None
    prefix, _, secret = token.split("_", 2)
    forged = f"{prefix}_{key_id}_{secret[:-1]}{'A' if secret[-1] != 'A' else 'B'}"
    assert _get(hub_env, forged)[0] == 401
    assert _row(hub_env, key_id)["last_used_at"] is None  # a wrong secret for a real key id records nothing

    assert _get(hub_env, token)[0] == 200
    first = _row(hub_env, key_id)["last_used_at"]
    assert isinstance(first, datetime) and abs(datetime.now(UTC) - first) < timedelta(minutes=1)
    assert _get(hub_env, token)[0] == 200
    assert _row(hub_env, key_id)["last_used_at"] == first  # within the minute: not written again

    _set(hub_env, key_id, "last_used_at = last_used_at - interval '2 minutes'")
    assert _get(hub_env, token)[0] == 200
    latest = _row(hub_env, key_id)["last_used_at"]
    assert isinstance(latest, datetime) and latest > first


def test_a_use_within_the_resolution_sends_no_update(hub_env: HubEnv) -> None:
    """The key's row, just read, says its last use was recorded less than a minute ago: no UPDATE is sent (a round
    trip per request saved); once older, the use is written again."""
    token = _create(hub_env, "--org", "eastbourne-csp", "--role", "ig_lead")
    engine = hub_env.app.state.engine
    sent: list[str] = []

    def keep(conn: object, cursor: object, statement: str, *rest: object) -> None:
        if "api_key" in statement:
            sent.append(statement.split()[0].upper())

    event.listen(engine, "before_cursor_execute", keep)
    try:
        assert _get(hub_env, token)[0] == 200  # never used: recorded
        assert _get(hub_env, token)[0] == 200  # within the minute
        first, sent[:] = list(sent), []
        _set(hub_env, _key_id(token), "last_used_at = last_used_at - interval '2 minutes'")
        assert _get(hub_env, token)[0] == 200
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    assert first == ["SELECT", "UPDATE", "SELECT"]
    assert sent == ["SELECT", "UPDATE"]


def test_the_list_shows_each_key_and_its_state_but_never_a_secret_or_hash(hub_env: HubEnv) -> None:
    active = _create(hub_env, "--org", "nhs-sussex-icb", "--role", "partner", "--expires", "30d")
    revoked = _create(hub_env, "--org", "nhs-sussex-icb", "--role", "ig_lead")
    expired = _create(hub_env, "--org", "nhs-sussex-icb", "--role", "analyst")
    other = _create(hub_env, "--org", "esfrs", "--role", "partner")
    _hub(hub_env, "keys", "revoke", _key_id(revoked))
    _set(hub_env, _key_id(expired), "expires_at = now() - interval '1 day'")
    assert _get(hub_env, active)[0] == 200

    code, out, _ = _hub(hub_env, "keys", "list", "--org", "nhs-sussex-icb")
    assert code == 0
    header, *lines = out.splitlines()
    assert header.split() == ["key_id", "org", "role", "created", "expires", "last_used", "revoked", "state"]
    rows = {line.split()[0]: line for line in lines}
    assert set(rows) == {_key_id(active), _key_id(revoked), _key_id(expired)}  # not esfrs's key
    assert rows[_key_id(active)].split()[-1] == "active" and rows[_key_id(active)].split()[2] == "partner"
    assert rows[_key_id(revoked)].split()[-1] == "revoked"
    assert rows[_key_id(expired)].split()[-1] == "expired"
    fields = rows[_key_id(active)].split()  # created, expires and last used are a date and a time each
    assert "-" not in fields[3:9] and fields[9] == "-"  # not revoked

    code, everything, _ = _hub(hub_env, "keys", "list")
    assert code == 0 and _key_id(other) in everything
    with hub_env.engine.connect() as conn:
        hashes = conn.execute(text("SELECT secret_sha256 FROM api_key")).scalars().all()
    for token in (active, revoked, expired, other):
        secret = token.split("_", 2)[2]
        assert secret not in everything and token not in everything
    assert not any(digest in everything or digest[:16] in everything for digest in hashes)
