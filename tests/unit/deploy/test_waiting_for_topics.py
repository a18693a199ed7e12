"""`hub worker` waits at start for the broker and for a first partner topic; a broker that refuses its sign-in stops
it. The listing is a stand-in (pure logic): kafka-python reports an unreachable broker and a refused credential
alike, as a failed bootstrap; what tells them apart is whether the broker's port answers (a real socket here)."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import pytest
from kafka.errors import KafkaTimeoutError
from pydantic import SecretStr

from broker_access.credentials import BrokerAccess
from deploy import topics
from deploy.settings import KafkaSettings

KAFKA = KafkaSettings(topic_prefix="hub")
TOPIC = "hub.events.police-uk-street.p"


def _access(port: int) -> BrokerAccess:
    return BrokerAccess(servers=f"127.0.0.1:{port}", username="hub.worker", password=SecretStr("unused"))


def _listings(monkeypatch: pytest.MonkeyPatch, answers: list[list[str] | Exception]) -> list[int]:
    """partner_topics answering `answers` in turn (raising the exceptions); the calls made, counted."""
    calls: list[int] = []
    pending: Iterator[list[str] | Exception] = iter(answers)

    def listing(kafka: KafkaSettings, access: BrokerAccess | None = None) -> list[str]:
        calls.append(1)
        answer = next(pending)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(topics, "partner_topics", listing)
    return calls


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed once the probe is: nothing listens there


def test_an_unreachable_broker_is_waited_for_and_said_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, closed_port: int
) -> None:
    down = KafkaTimeoutError("Unable to bootstrap")
    calls = _listings(monkeypatch, [down, down, down, [], [TOPIC]])
    with caplog.at_level(logging.WARNING, logger="deploy.topics"):
        found = topics.wait_for_partner_topics(KAFKA, 0.01, _access(closed_port))
    assert (found, len(calls)) == ([TOPIC], 5)
    said = [r.getMessage() for r in caplog.records]
    assert sum("cannot be reached (KafkaTimeoutError)" in line for line in said) == 1
    assert sum("no partner topics" in line for line in said) == 1


def test_a_broker_that_answers_but_refuses_the_sign_in_twice_stops_the_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    refused = KafkaTimeoutError("Unable to bootstrap")
    calls = _listings(monkeypatch, [refused, refused, [TOPIC]])
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = int(listener.getsockname()[1])
        with pytest.raises(topics.BrokerRefusedError, match=f"127.0.0.1:{port} accepts connections but refuses"):
            topics.wait_for_partner_topics(KAFKA, 0.01, _access(port))
    assert len(calls) == 2
