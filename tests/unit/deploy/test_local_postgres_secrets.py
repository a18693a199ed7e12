"""The embedded PostgreSQL's credentials: made once, kept 0600 under <home>/secrets, handed to libpq by pgpass."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from deploy.home_secrets import ensure_password, ensure_private_dir
from deploy.local.postgres import PostgresServer, pgpass_text
from deploy.local.processes import LocalInfraError
from deploy.settings import LocalSettings


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_password_is_made_once_and_kept_readable_only_by_its_owner(tmp_path: Path) -> None:
    directory = ensure_private_dir(tmp_path / "secrets")
    first = ensure_password(directory / "postgres-owner")
    assert len(first) >= 40 and first.isascii()
    assert ensure_password(directory / "postgres-owner") == first
    assert ensure_password(directory / "postgres-api") != first
    assert (_mode(directory), _mode(directory / "postgres-owner")) == (0o700, 0o600)


def test_a_secret_file_left_readable_is_made_0600_again(tmp_path: Path) -> None:
    directory = ensure_private_dir(tmp_path / "secrets")
    (directory / "postgres-worker").write_text("kept\n")
    (directory / "postgres-worker").chmod(0o644)
    assert ensure_password(directory / "postgres-worker") == "kept"
    assert _mode(directory / "postgres-worker") == 0o600


def test_pgpass_names_each_role_on_the_loopback_port() -> None:
    text = pgpass_text("127.0.0.1", 45432, {"hub": "s3cret", "hub_api": "an0ther"})
    assert text == "127.0.0.1:45432:*:hub:s3cret\n127.0.0.1:45432:*:hub_api:an0ther\n"


@pytest.mark.parametrize("password", ["a:b", "a\\b", "a\nb"])
def test_pgpass_refuses_what_it_cannot_hold(password: str) -> None:
    with pytest.raises(ValueError, match="pgpass field"):
        pgpass_text("127.0.0.1", 1, {"hub": password})


def test_a_cluster_made_before_passwords_is_refused_naming_what_to_remove(tmp_path: Path) -> None:
    settings = LocalSettings(home=tmp_path / "hub")
    server = PostgresServer(settings)
    server.data.mkdir(parents=True)
    (server.data / "PG_VERSION").write_text("15\n")
    with pytest.raises(LocalInfraError) as refused:
        server.start()
    message = str(refused.value)
    assert f"remove {server.root}" in message and "hub down" in message
    assert str(settings.secrets_dir / "postgres-superuser") in message
