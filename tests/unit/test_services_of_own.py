"""pytest-xdist's processes each get embedded services of their own."""

from __future__ import annotations

import pytest

from tests.support.hub import services_of_own


@pytest.fixture(autouse=True)
def _configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_LOCAL_HOME", "/srv/hub")
    monkeypatch.setenv("HUB_LOCAL_KAFKA_PORT", "29092")
    monkeypatch.setenv("HUB_LOCAL_KAFKA_CONTROLLER_PORT", "29093")
    monkeypatch.setenv("HUB_LOCAL_PG_PORT", "35432")


@pytest.mark.parametrize("worker", [None, "gw0"])
def test_a_single_process_and_the_first_keep_the_configured_services(worker: str | None) -> None:
    assert services_of_own(worker) == {}


def test_each_later_process_has_a_home_and_ports_of_its_own() -> None:
    assert services_of_own("gw1") == {
        "HUB_LOCAL_HOME": "/srv/hub-gw1",
        "HUB_LOCAL_KAFKA_PORT": "29102",
        "HUB_LOCAL_KAFKA_CONTROLLER_PORT": "29103",
        "HUB_LOCAL_PG_PORT": "35442",
    }
    ports = [set(services_of_own(f"gw{n}").values()) for n in range(1, 8)]
    assert all(not (a & b) for i, a in enumerate(ports) for b in ports[i + 1 :])  # no two processes share one
