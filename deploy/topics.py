"""The hub's topics on the configured cluster: creating them, listing the partner topics, publishing's topic check.

Names come from sharing_protocols.topics. The operator's tools create topics; a partner's credential cannot, so a
publish whose topic is missing stops with TopicUnavailableError instead of waiting for the broker.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import Iterable

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from broker_access.credentials import BrokerAccess
from deploy.settings import KafkaSettings, broker_access
from sharing_protocols.decision import ProtocolRegister
from sharing_protocols.topics import partner_topic, topic_source

log = logging.getLogger(__name__)


class TopicUnavailableError(Exception):
    """A partner topic that does not exist and could not be created with the credential in use."""

    def __init__(self, topic: str, cause: str) -> None:
        super().__init__(
            f"topic {topic} does not exist and could not be created ({cause}); "
            "the hub operator creates a partner's topics with `hub partners add`"
        )
        self.topic = topic


def _admin(access: BrokerAccess | None) -> KafkaAdminClient:
    """An admin client signed in as `access` (default: the operator's, broker_access("admin"))."""
    return KafkaAdminClient(**(access or broker_access("admin")).kafka_python(), client_id="hub-admin")


def ensure_topics(kafka: KafkaSettings, topics: Iterable[str] = (), access: BrokerAccess | None = None) -> None:
    """Create the dead-letter topic and any of `topics` (partner topics) that the cluster does not have yet, with the
    hub's retention (HUB_KAFKA_RETENTION_DAYS), signed in as `access` (default: the operator's); only a principal
    allowed to create topics may."""
    names = [kafka.dead_letter_topic, *topics]
    admin = _admin(access)
    try:
        existing = set(admin.list_topics())
        wanted = [
            NewTopic(name, num_partitions=kafka.partitions, replication_factor=1, topic_configs=kafka.topic_configs)
            for name in dict.fromkeys(names)
            if name not in existing
        ]
        if wanted:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(wanted)
    finally:
        admin.close()


def ensure_publishing_topic(kafka: KafkaSettings, topic: str, access: BrokerAccess | None = None) -> None:
    """Make sure `topic` exists before publishing on it; TopicUnavailableError when it is missing and cannot be made.

    A producer would otherwise wait a minute for the topic's metadata and then fail each send. `access` is the
    publisher's credential (default: the operator's); a partner's sees only its own topics and creates none.
    """
    admin = _admin(access)
    try:
        if topic in admin.list_topics():
            return
        try:
            made = NewTopic(topic, kafka.partitions, replication_factor=1, topic_configs=kafka.topic_configs)
            admin.create_topics([made])
        except TopicAlreadyExistsError:
            return
        except KafkaError as exc:  # e.g. not authorised to create topics, or a name the broker refuses
            raise TopicUnavailableError(topic, type(exc).__name__) from None
    finally:
        admin.close()


def protocol_topics(prefix: str, register: ProtocolRegister) -> list[str]:
    """The partner topic of every (data owner, dataset it provides) pair the register's protocols name, sorted."""
    topics = {
        partner_topic(prefix, dataset, owner)
        for owner, datasets in register.provided_datasets().items()
        for dataset in datasets
    }
    return sorted(topic for topic in topics if topic_source(prefix, topic) is not None)


def partner_topics(kafka: KafkaSettings, access: BrokerAccess | None = None) -> list[str]:
    """The partner topics of the deployment that the cluster has now and `access` may see, sorted."""
    admin = _admin(access)
    try:
        return sorted(name for name in admin.list_topics() if topic_source(kafka.topic_prefix, name) is not None)
    finally:
        admin.close()


class BrokerRefusedError(Exception):
    """The broker accepts connections but not this principal's sign-in (a refused credential, or TLS)."""


def _accepts_connections(servers: str) -> bool:
    """Whether any of the bootstrap `servers` (host:port, comma-separated) accepts a TCP connection."""
    for server in servers.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            socket.create_connection((host.strip("[]"), int(port)), timeout=2).close()
            return True
        except (OSError, ValueError):
            continue
    return False


def wait_for_partner_topics(kafka: KafkaSettings, poll: float, access: BrokerAccess | None = None) -> list[str]:
    """The deployment's partner topics, once there is at least one (a consumer cannot subscribe to nothing).

    A broker that cannot be reached is waited for (said once in the log). One that accepts connections but fails
    the sign-in twice running refuses the credential: BrokerRefusedError (kafka-python reports both as a failed
    bootstrap, so the difference is whether the broker's port answers).
    """
    servers = (access or broker_access("admin")).servers
    said: set[str] = set()
    refusals = 0
    while True:
        try:
            topics = partner_topics(kafka, access)
        except KafkaError as exc:
            refusals = refusals + 1 if _accepts_connections(servers) else 0
            if refusals >= 2:
                raise BrokerRefusedError(
                    f"the broker at {servers} accepts connections but refuses this principal's sign-in "
                    f"({type(exc).__name__}); check HUB_KAFKA_USERNAME/PASSWORD and the CA file"
                ) from None
            if "broker" not in said:
                log.warning("the broker at %s cannot be reached (%s); waiting for it", servers, type(exc).__name__)
                said.add("broker")
            time.sleep(poll)
            continue
        if topics:
            return topics
        if "topics" not in said:
            log.warning("no partner topics on the broker yet; waiting for the operator to create one")
            said.add("topics")
        time.sleep(poll)
