"""The secured embedded broker refuses what a partner may not do, with the broker's own error.

Partners are made as `hub partners add` makes them (two through this hub's helper, two through the command
itself). A refusal at sign-in reaches the client only as a closed connection (it gives up with KafkaTimeoutError),
so those tests also read why, from what the broker wrote in its server log; a refusal of an operation is the error
the broker returned (TopicAuthorizationFailedError, GroupAuthorizationFailedError).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from pydantic import SecretStr

from broker_access.credentials import BrokerAccess
from deploy.local.kafka_broker import KafkaBroker
from deploy.local.processes import file_size
from deploy.settings import LocalSettings
from sharing_protocols.topics import partner_topic
from stream_processors.settings import loader_group
from tests.support.hub import HubEnv

SIGN_IN_SECONDS = 3  # how long a refused client keeps trying before it gives up

A, B = "esfrs", "eastbourne-council"  # data owners of fire-incidents and council-asb in the packaged protocols


def refusal(action: Callable[[], object]) -> str:
    """The name of the error `action` ends with ("accepted" when it succeeds)."""
    try:
        action()
    except Exception as exc:
        return type(exc).__name__
    return "accepted"


def produce(access: BrokerAccess, topic: str) -> None:
    """One record sent to `topic` as `access`'s principal, acknowledged."""
    producer = KafkaProducer(
        **access.kafka_python(), bootstrap_timeout_ms=SIGN_IN_SECONDS * 1000, acks="all", enable_idempotence=True
    )
    try:
        producer.send(topic, key=b"k", value=b"{}").get(timeout=30)
    finally:
        producer.close()


def consume(access: BrokerAccess, topic: str, group: str | None = None) -> list[object]:
    """Read `topic` as `access`'s principal (in `group`, if given): fetch its records, then ask where partition 0
    ends. A topic the principal may describe but not read fails the fetch; one it may not even describe is left out
    of its metadata (no records) and fails the offsets request."""
    consumer = KafkaConsumer(
        topic, **access.kafka_python(), group_id=group, auto_offset_reset="earliest", consumer_timeout_ms=10_000
    )
    try:
        records = list(consumer)
        consumer.end_offsets([TopicPartition(topic, 0)])
        return records
    finally:
        consumer.close()


def admin_as(access: BrokerAccess, action: Callable[[KafkaAdminClient], object]) -> None:
    admin = KafkaAdminClient(**access.kafka_python(), bootstrap_timeout_ms=SIGN_IN_SECONDS * 1000)
    try:
        action(admin)
    finally:
        admin.close()


def sign_in(access: BrokerAccess) -> None:
    """Connect and fetch metadata as `access`'s principal (what every client does first)."""
    admin_as(access, lambda admin: None)


@dataclass(frozen=True)
class Attempt:
    """A sign-in attempt: the client's error, and what the broker logged meanwhile."""

    error: str
    broker_log: str


@pytest.fixture(scope="module")
def broker(hub_env: HubEnv) -> KafkaBroker:
    if hub_env.kafka.external:
        pytest.fail("these tests read the embedded broker's server log: run them without HUB_KAFKA_BOOTSTRAP")
    return KafkaBroker(LocalSettings())


@pytest.fixture(scope="module")
def attempt(broker: KafkaBroker) -> Callable[[Callable[[], object]], Attempt]:
    def run(action: Callable[[], object]) -> Attempt:
        offset = file_size(broker.server_log)
        error = refusal(action)
        # All the broker logged meanwhile: other hubs' topic deletions can log tens of KiB in the same seconds.
        with broker.server_log.open("rb") as log:
            log.seek(offset)
            return Attempt(error, log.read().decode("utf-8", errors="replace"))

    return run


def _without_sasl(hub_env: HubEnv, **options: Any) -> None:
    producer = KafkaProducer(
        bootstrap_servers=hub_env.admin.servers, bootstrap_timeout_ms=SIGN_IN_SECONDS * 1000, **options
    )
    producer.close()


@pytest.fixture(scope="module")
def plaintext(hub_env: HubEnv, attempt: Callable[[Callable[[], object]], Attempt]) -> Attempt:
    return attempt(lambda: _without_sasl(hub_env))


@pytest.fixture(scope="module")
def tls_only(hub_env: HubEnv, attempt: Callable[[Callable[[], object]], Attempt]) -> Attempt:
    ca = str(hub_env.admin.ca_file)
    return attempt(lambda: _without_sasl(hub_env, security_protocol="SSL", ssl_cafile=ca))


@pytest.fixture(scope="module")
def partner_a(hub_env: HubEnv) -> BrokerAccess:
    return hub_env.partner(A, ["fire-incidents"])


@pytest.fixture(scope="module")
def partner_b(hub_env: HubEnv) -> BrokerAccess:
    return hub_env.partner(B, ["council-asb"])


@pytest.fixture(scope="module")
def wrong_password(partner_a: BrokerAccess, attempt: Callable[[Callable[[], object]], Attempt]) -> Attempt:
    guess = partner_a.model_copy(update={"password": SecretStr("not-the-password")})
    return attempt(lambda: sign_in(guess))


def test_a_client_without_tls_or_sasl_is_refused(plaintext: Attempt) -> None:
    assert (plaintext.error, "(SSL handshake failed)" in plaintext.broker_log) == ("KafkaTimeoutError", True)


def test_a_client_with_tls_but_no_sasl_is_refused(tls_only: Attempt) -> None:
    said = "Unexpected Kafka request of type METADATA during SASL handshake" in tls_only.broker_log
    assert (tls_only.error, said) == ("KafkaTimeoutError", True)


def test_a_wrong_password_is_refused_by_the_broker(wrong_password: Attempt) -> None:
    said = "invalid credentials with SASL mechanism SCRAM-SHA-512"
    assert (wrong_password.error, said in wrong_password.broker_log) == ("KafkaTimeoutError", True)


def test_a_partner_writes_its_own_topic(hub_env: HubEnv, partner_a: BrokerAccess) -> None:
    assert refusal(lambda: produce(partner_a, partner_topic(hub_env.prefix, "fire-incidents", A))) == "accepted"


def test_a_partner_writing_another_partners_topic_is_refused(
    hub_env: HubEnv, partner_a: BrokerAccess, partner_b: BrokerAccess
) -> None:
    topic_of_b = partner_topic(hub_env.prefix, "council-asb", B)
    assert refusal(lambda: produce(partner_a, topic_of_b)) == "TopicAuthorizationFailedError"


def test_a_partner_writing_another_dataset_in_its_own_name_is_refused(hub_env: HubEnv, partner_a: BrokerAccess) -> None:
    not_granted = partner_topic(hub_env.prefix, "police-records", A)  # esfrs does not provide police records
    admin_as(hub_env.admin, lambda admin: admin.create_topics([NewTopic(not_granted, 1, 1)]))
    assert refusal(lambda: produce(partner_a, not_granted)) == "TopicAuthorizationFailedError"


@pytest.mark.parametrize(
    "topic",
    [
        lambda prefix: partner_topic(prefix, "fire-incidents", A),  # its own
        lambda prefix: partner_topic(prefix, "council-asb", B),  # another partner's
        lambda prefix: f"{prefix}.events.police-uk-street",  # a dataset topic of the hub
        lambda prefix: f"{prefix}.dead-letter",
    ],
    ids=["own", "other-partners", "dataset", "dead-letter"],
)
def test_a_partner_reads_no_topic(
    hub_env: HubEnv, partner_a: BrokerAccess, partner_b: BrokerAccess, topic: Callable[[str], str]
) -> None:
    assert refusal(lambda: consume(partner_a, topic(hub_env.prefix))) == "TopicAuthorizationFailedError"


def test_a_partner_cannot_join_the_workers_consumer_group(hub_env: HubEnv, partner_a: BrokerAccess) -> None:
    own = partner_topic(hub_env.prefix, "fire-incidents", A)
    assert refusal(lambda: consume(partner_a, own, loader_group(hub_env.prefix))) == "GroupAuthorizationFailedError"


def test_a_partner_cannot_create_a_topic(hub_env: HubEnv, partner_a: BrokerAccess) -> None:
    name = partner_topic(hub_env.prefix, "fire-incidents", f"{A}-two")
    create = lambda: admin_as(partner_a, lambda admin: admin.create_topics([NewTopic(name, 1, 1)]))  # noqa: E731
    assert refusal(create) == "TopicAuthorizationFailedError"


def test_a_partner_cannot_delete_its_own_topic(hub_env: HubEnv, partner_a: BrokerAccess) -> None:
    own = partner_topic(hub_env.prefix, "fire-incidents", A)
    assert refusal(lambda: admin_as(partner_a, lambda admin: admin.delete_topics([own]))) == (
        "TopicAuthorizationFailedError"
    )


def test_the_worker_cannot_write_a_partner_topic(hub_env: HubEnv, partner_a: BrokerAccess) -> None:
    worker = hub_env.admin.model_copy(
        update={
            "username": hub_env.worker_env["HUB_KAFKA_USERNAME"],
            "password": SecretStr(hub_env.worker_env["HUB_KAFKA_PASSWORD"]),
        }
    )
    own_of_a = partner_topic(hub_env.prefix, "fire-incidents", A)
    assert refusal(lambda: produce(worker, own_of_a)) == "TopicAuthorizationFailedError"


# `hub partners` itself, as the operator runs it.


def hub_partners(hub_env: HubEnv, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deploy.cli", "partners", *args],
        env={**os.environ, **hub_env.env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def printed_access(hub_env: HubEnv, output: str) -> BrokerAccess:
    """The credential `hub partners add|rotate` printed, as the partner would use it."""
    fields = dict(re.findall(r"^(\w[\w ]*?):\s+(\S+)$", output, flags=re.MULTILINE))
    return hub_env.admin.model_copy(update={"username": fields["username"], "password": SecretStr(fields["password"])})


@dataclass(frozen=True)
class Revocation:
    before: str
    after: Attempt
    listed: str


@pytest.fixture(scope="module")
def revoked(hub_env: HubEnv, attempt: Callable[[Callable[[], object]], Attempt]) -> Iterator[Revocation]:
    added = hub_partners(hub_env, "add", "east-sussex-marac")
    assert added.returncode == 0, added.stderr
    access = printed_access(hub_env, added.stdout)
    topic = partner_topic(hub_env.prefix, "marac-cases", "east-sussex-marac")
    before = refusal(lambda: produce(access, topic))
    done = hub_partners(hub_env, "revoke", "east-sussex-marac")
    assert done.returncode == 0, done.stderr
    yield Revocation(before, attempt(lambda: produce(access, topic)), hub_partners(hub_env, "list").stdout)


def test_an_added_partner_can_publish_before_it_is_revoked(revoked: Revocation) -> None:
    assert revoked.before == "accepted"


def test_a_revoked_partner_is_refused_by_the_broker(revoked: Revocation) -> None:
    said = "invalid credentials with SASL mechanism SCRAM-SHA-512" in revoked.after.broker_log
    assert (revoked.after.error, said) == ("KafkaTimeoutError", True)


def test_a_revoked_partner_is_no_longer_listed(revoked: Revocation) -> None:
    assert "east-sussex-marac" not in revoked.listed


@dataclass(frozen=True)
class Rotation:
    old: Attempt
    new: str
    listed: str
    printed: str
    new_password: str


@pytest.fixture(scope="module")
def rotated(hub_env: HubEnv, attempt: Callable[[Callable[[], object]], Attempt]) -> Iterator[Rotation]:
    added = hub_partners(hub_env, "add", "kss-probation", "--datasets", "probation-iom")
    assert added.returncode == 0, added.stderr
    old = printed_access(hub_env, added.stdout)
    rotation = hub_partners(hub_env, "rotate", "kss-probation")
    assert rotation.returncode == 0, rotation.stderr
    new = printed_access(hub_env, rotation.stdout)
    topic = partner_topic(hub_env.prefix, "probation-iom", "kss-probation")
    listed = hub_partners(hub_env, "list").stdout
    yield Rotation(
        attempt(lambda: produce(old, topic)),
        refusal(lambda: produce(new, topic)),
        listed,
        added.stdout + rotation.stdout,
        new.password.get_secret_value(),
    )
    hub_partners(hub_env, "revoke", "kss-probation")


def test_a_rotated_partners_old_password_is_refused(rotated: Rotation) -> None:
    said = "invalid credentials with SASL mechanism SCRAM-SHA-512" in rotated.old.broker_log
    assert (rotated.old.error, said) == ("KafkaTimeoutError", True)


def test_a_rotated_partners_new_password_works(rotated: Rotation) -> None:
    assert rotated.new == "accepted"


def test_the_list_names_each_partner_and_the_topics_it_may_write(hub_env: HubEnv, rotated: Rotation) -> None:
    topic = partner_topic(hub_env.prefix, "probation-iom", "kss-probation")
    assert re.search(rf"^kss-probation\s+{re.escape(hub_env.prefix)}\.partner\.kss-probation\s+{re.escape(topic)}$",
                     rotated.listed, flags=re.MULTILINE)  # fmt: skip


def test_the_list_shows_no_password(rotated: Rotation) -> None:
    assert rotated.new_password not in rotated.listed


def test_the_bootstrap_servers_and_ca_file_are_printed_with_the_credential(hub_env: HubEnv, rotated: Rotation) -> None:
    expected = {f"bootstrap: {hub_env.admin.servers}", f"CA file:   {hub_env.admin.ca_file}"}
    assert expected <= set(rotated.printed.splitlines())


def test_the_password_is_kept_nowhere_in_the_hubs_home(rotated: Rotation) -> None:
    home = LocalSettings().home.resolve()
    holders = [
        path
        for path in home.rglob("*")
        if path.is_file()
        and not {"data", "libs"} & set(path.relative_to(home).parts)  # storage (salted only) and jars
        and path.stat().st_size < 10_000_000
        and rotated.new_password.encode() in path.read_bytes()
    ]
    assert holders == []
