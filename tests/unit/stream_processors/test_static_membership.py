"""Static group membership (KIP-345): HUB_WORKER_INSTANCE_ID reaches the one consumer that joins the loader's group,
is checked against Kafka's rule for a group instance id, and without it the membership stays dynamic."""

from __future__ import annotations

import asyncio
import os

import pytest
from aiokafka import AIOKafkaConsumer
from pydantic import SecretStr, ValidationError
from typer.testing import CliRunner

from broker_access.credentials import BrokerAccess
from deploy import settings
from deploy.cli import build
from deploy.group_membership import leave_as_static_member
from stream_processors.app import consumer_settings, membership_settings
from stream_processors.fetcher import BatchApp
from stream_processors.settings import WorkerSettings

ACCESS = BrokerAccess(servers="b1:9093", username="hub.worker", password=SecretStr("s3cret"))
POD = "hub-worker-6d9f7c5b8-x2x5q"  # a Deployment's pod name, as the Downward API gives it


@pytest.fixture(autouse=True)
def no_hub_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("HUB_"):
            monkeypatch.delenv(name)


def group_consumer_of(worker: WorkerSettings) -> tuple[str | None, int]:
    """The group instance id and session timeout (ms) of the aiokafka consumer faust 0.15's driver makes for the
    app's group (made, never started: no broker needed)."""

    async def make() -> tuple[str | None, int]:
        app = BatchApp(worker.group, **consumer_settings(worker.broker, 10), **membership_settings(worker))
        consumer = app.consumer._thread._create_worker_consumer(app.transport)  # type: ignore[attr-defined]
        assert isinstance(consumer, AIOKafkaConsumer)
        try:
            return consumer._group_instance_id, consumer._session_timeout_ms
        finally:
            await consumer.stop()

    return asyncio.run(make())


def test_the_instance_id_and_session_timeout_reach_the_groups_consumer() -> None:
    worker = WorkerSettings(broker=ACCESS, instance_id=POD, session_timeout_seconds=30)
    assert group_consumer_of(worker) == (POD, 30_000)


def test_without_an_instance_id_the_consumer_is_a_dynamic_member() -> None:
    assert group_consumer_of(WorkerSettings(broker=ACCESS)) == (None, 10_000)


@pytest.mark.parametrize("good", [POD, "worker_1.eu-west", "a", "x" * 249])
def test_kafkas_instance_ids_are_accepted(good: str) -> None:
    assert WorkerSettings(broker=ACCESS, instance_id=good).instance_id == good


@pytest.mark.parametrize("bad", ["", ".", "..", "x" * 250, "hub worker", "hub/worker", "wörker", "a:b"])
def test_other_instance_ids_are_refused_naming_the_rule(bad: str) -> None:
    with pytest.raises(ValidationError, match=r"group instance id is 1 to 249 characters"):
        WorkerSettings(broker=ACCESS, instance_id=bad)


@pytest.mark.parametrize("seconds", [5.9, 90.1])
def test_a_session_timeout_outside_6_to_90_seconds_is_refused(seconds: float) -> None:
    with pytest.raises(ValidationError, match="session_timeout_seconds"):
        WorkerSettings(broker=ACCESS, session_timeout_seconds=seconds)


def test_the_variable_reaches_the_worker_settings_and_empty_means_dynamic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_KAFKA_BOOTSTRAP", "k1:9092")
    monkeypatch.setenv("HUB_KAFKA_USERNAME", "hub.worker")
    monkeypatch.setenv("HUB_KAFKA_PASSWORD", "s3cret")
    monkeypatch.setenv("HUB_WORKER_INSTANCE_ID", POD)
    assert settings.worker_settings().instance_id == POD
    monkeypatch.setenv("HUB_WORKER_INSTANCE_ID", "")
    assert settings.worker_settings().instance_id is None


@pytest.mark.parametrize("command", [["worker"], ["replay", "--reason", "protocol police-to-csp-analysts@2"]])
@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("HUB_WORKER_INSTANCE_ID", "secret/pod name", "Value error, a group instance id is 1 to 249"),
        ("HUB_WORKER_BATCH_SIZE", "many", "Input should be a valid integer"),
    ],
)
def test_hub_worker_and_replay_with_a_bad_setting_exit_2_naming_the_variable_not_its_value(
    monkeypatch: pytest.MonkeyPatch, command: list[str], variable: str, value: str, says: str
) -> None:
    monkeypatch.setenv("HUB_KAFKA_BOOTSTRAP", "k1:9092")
    monkeypatch.setenv("HUB_KAFKA_USERNAME", "hub.worker")
    monkeypatch.setenv("HUB_KAFKA_PASSWORD", "s3cret")
    monkeypatch.setenv(variable, value)
    result = CliRunner().invoke(build(command[0]), command)
    assert result.exit_code == 2
    [line] = result.output.splitlines()
    assert line.startswith(f"{variable}: {says}")
    assert value not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_leave_the_broker_cannot_take_is_logged_by_kind_and_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    nobody = BrokerAccess(servers="127.0.0.1:1", username="hub.worker", password=SecretStr("s3cret"))
    assert leave_as_static_member(nobody, "hub-warehouse-loader", "hub-worker-0", timeout_s=1.0) is False
    [warning] = [r for r in caplog.records if r.name == "deploy.group_membership"]
    assert (
        warning.getMessage()
        == "could not leave the group as hub-worker-0 (KafkaTimeoutError); its session will time out"
    )
    assert "s3cret" not in caplog.text
