"""deploy/docker-compose.yml against the Compose specification's JSON schema (vendored in
deploy/kubernetes/schemas/compose-spec/), broken copies refused, and the settings it names real ones."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from tests.support.manifest_schemas import REPO, compose_errors
from tests.unit.deploy.test_kubernetes_manifests import _known_settings

COMPOSE_FILE = REPO / "deploy" / "docker-compose.yml"


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    return loaded


def test_the_compose_file_follows_the_specification() -> None:
    assert compose_errors(compose()) == []


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(document: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node: Any = document
        for key in parents:
            node = node[key]
        node[last] = value

    return mutate


BROKEN: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("services/worker/comand", _set("services/worker/comand", ["worker"]), "comand"),
    ("services/api/ports", _set("services/api/ports", "8000:8000"), "services/api/ports"),
    ("services/init/depends_on/postgres/condition", _set("services/init/depends_on/postgres/condition", "healthy"),
     "services/init/depends_on"),
    ("services/kafka/healthcheck/retries", _set("services/kafka/healthcheck/retries", [20]),
     "services/kafka/healthcheck/retries"),
    ("volumes", _set("volumes", ["kafka-data"]), "/volumes"),
    ("services/postgres/restart", _set("services/postgres/restart", {"always": True}), "services/postgres/restart"),
]  # fmt: skip


@pytest.mark.parametrize(("where", "mutate", "named"), BROKEN, ids=[where for where, _, _ in BROKEN])
def test_a_broken_compose_file_is_refused_naming_where(
    where: str, mutate: Callable[[dict[str, Any]], None], named: str
) -> None:
    document = copy.deepcopy(compose())
    mutate(document)
    errors = compose_errors(document)
    assert errors, f"a broken {where} was accepted"
    assert any(named in error for error in errors), errors


def test_every_setting_the_hubs_services_are_given_is_one_the_hub_reads() -> None:
    """The services built from deploy/Dockerfile run `hub`; postgres' HUB_*_PASSWORD are its init script's."""
    known, prefixes = _known_settings()
    named = {
        name
        for service in compose()["services"].values()
        if "build" in service
        for name in service.get("environment", {})
        if name.startswith("HUB_")
    }
    assert named
    assert not {name for name in named if name not in known and not name.startswith(prefixes)}
