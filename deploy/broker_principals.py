"""The hub's principals on the broker and what each may do: SCRAM credentials and ACLs, managed as an admin.

- the worker `<prefix>.worker` reads every partner topic (PREFIXED `<prefix>.events.`) in its consumer group,
  writes the dead-letter topic, and may create and use faust's leader-election topic
  `<group>-__assignor-__leader`; nothing else;
- a partner `<prefix>.partner.<id>` may write (and describe) exactly its own topics
  `<prefix>.events.<dataset>.<id>`, LITERAL: it reads nothing, joins no group, creates and deletes nothing.

Partner passwords are generated here, handed back once to be shown to the operator, and never stored by the hub:
the broker keeps only their salted SCRAM form (kafka-python salts the password before sending it).

A credential is never deleted: Kafka 3.9 (KRaft) replays a SCRAM credential's removal from its metadata log so that,
after a broker restart, every SCRAM login fails (the admin's and the broker's own). Revoking a principal *seals* its
credential instead: a random password nobody keeps, salted with SEALED_ITERATIONS (which marks it sealed); the
listings here leave sealed principals out, and the broker refuses them as it refuses an unknown user.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType

from kafka import KafkaAdminClient
from kafka.admin import (
    ACL,
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    NewTopic,
    ResourcePattern,
    ResourcePatternFilter,
    ResourceType,
    UserScramCredentialUpsertion,
)
from kafka.errors import KafkaError, TopicAlreadyExistsError
from pydantic import SecretStr

from broker_access.credentials import BrokerAccess
from deploy.home_secrets import new_password
from sharing_protocols.topics import dead_letter_topic, events_prefix, partner_principal, partner_topic
from stream_processors.settings import loader_group

PARTNER_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
SCRAM_ITERATIONS = 8192
SEALED_ITERATIONS = 8191  # the iteration count of a sealed (revoked) credential; no live one uses it
PROPAGATION_SECONDS = 15.0  # how long a new credential or ACL may take to reach the broker's metadata


class PrincipalError(RuntimeError):
    """The broker refused to change a credential or an ACL, or a partner is not in the state asked for."""


def sealed(credentials: Sequence[Mapping[str, object]]) -> bool:
    """Whether a user's SCRAM credentials (kafka-python's `credential_infos`) are all sealed, i.e. revoked."""
    return bool(credentials) and all(info["iterations"] == SEALED_ITERATIONS for info in credentials)


def worker_principal(prefix: str) -> str:
    """The SCRAM username of the warehouse loader of topic prefix `prefix`."""
    return f"{prefix}.worker"


def leader_topic(prefix: str) -> str:
    """The topic faust creates to elect the leader of the worker's consumer group (`<app id>-__assignor-__leader`)."""
    return f"{loader_group(prefix)}-__assignor-__leader"


def _allow(
    principal: str, operation: ACLOperation, kind: ResourceType, name: str, pattern: ACLResourcePatternType
) -> ACL:
    return ACL(f"User:{principal}", "*", operation, ACLPermissionType.ALLOW, ResourcePattern(kind, name, pattern))


def worker_acls(prefix: str) -> list[ACL]:
    """What the worker may do: read the partner topics in its group, write dead letters, run faust's leader topic."""
    user, topic, group = worker_principal(prefix), ResourceType.TOPIC, ResourceType.GROUP
    literal, prefixed = ACLResourcePatternType.LITERAL, ACLResourcePatternType.PREFIXED
    return [
        _allow(user, ACLOperation.READ, topic, events_prefix(prefix), prefixed),
        _allow(user, ACLOperation.DESCRIBE, topic, events_prefix(prefix), prefixed),
        _allow(user, ACLOperation.READ, group, loader_group(prefix), literal),
        _allow(user, ACLOperation.WRITE, topic, dead_letter_topic(prefix), literal),
        _allow(user, ACLOperation.DESCRIBE, topic, dead_letter_topic(prefix), literal),
        *(_allow(user, op, topic, leader_topic(prefix), literal) for op in (
            ACLOperation.CREATE, ACLOperation.DESCRIBE, ACLOperation.READ)),
    ]  # fmt: skip


def partner_topics(prefix: str, partner: str, datasets: Iterable[str]) -> list[str]:
    """The partner's own topics for `datasets`, in dataset order."""
    return [partner_topic(prefix, dataset, partner) for dataset in sorted(set(datasets))]


def partner_acls(prefix: str, partner: str, topics: Iterable[str]) -> list[ACL]:
    """What a partner may do: write and describe exactly `topics` (LITERAL); nothing else."""
    user = partner_principal(prefix, partner)
    return [
        _allow(user, op, ResourceType.TOPIC, topic, ACLResourcePatternType.LITERAL)
        for topic in topics
        for op in (ACLOperation.WRITE, ACLOperation.DESCRIBE)
    ]


def _everything_of(principal: str) -> ACLFilter:
    anything = ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY)
    return ACLFilter(f"User:{principal}", None, ACLOperation.ANY, ACLPermissionType.ANY, anything)


@dataclass(frozen=True)
class PartnerGrant:
    """A partner principal and the topics it may write."""

    partner: str
    username: str
    topics: tuple[str, ...]


class BrokerAdmin:
    """SCRAM credentials, ACLs and topics on the broker, changed as an admin principal (a super user, or one with
    ALTER on the cluster)."""

    def __init__(self, access: BrokerAccess, client_id: str = "hub-principals") -> None:
        self.access = access
        self._admin = KafkaAdminClient(**access.kafka_python(), client_id=client_id)

    def close(self) -> None:
        self._admin.close()

    def __enter__(self) -> BrokerAdmin:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def users(self) -> set[str]:
        """Every username that has a live SCRAM credential (sealed ones left out)."""
        return {
            username
            for username, found in self._admin.describe_user_scram_credentials().items()
            if not sealed(found["credential_infos"])
        }

    def set_password(self, username: str, password: str) -> None:
        """Create or replace `username`'s SCRAM credential (sent salted, never in clear); return once the broker
        lets `username` sign in with `password`."""
        self._upsert(username, password, SCRAM_ITERATIONS)
        self._await(lambda: username in self.users(), f"the credential of {username}")
        self._await(lambda: self._signs_in(username, password), f"the new credential of {username}")

    def _signs_in(self, username: str, password: str) -> bool:
        """Whether the broker authenticates `username` with `password` (and answers its metadata request)."""
        access = self.access.model_copy(update={"username": username, "password": SecretStr(password)})
        quiet = logging.getLogger("kafka")
        level = quiet.level
        quiet.setLevel(logging.CRITICAL)
        try:
            KafkaAdminClient(
                **access.kafka_python(), client_id="hub-principals-check", bootstrap_timeout_ms=2000
            ).close()
            return True
        except KafkaError:
            return False
        finally:
            quiet.setLevel(level)

    def _upsert(self, username: str, password: str, iterations: int) -> None:
        upsert = UserScramCredentialUpsertion(username, self.access.mechanism, password, iterations=iterations)
        self._altered(self._admin.alter_user_scram_credentials([upsert]), username)

    def seal_credential(self, username: str) -> bool:
        """Revoke `username`'s SCRAM credential by sealing it (a random password nobody keeps; never a deletion,
        see the module's note); False when it had no live one. Returns once the broker refuses it."""
        if username not in self.users():
            return False
        self._upsert(username, new_password(), SEALED_ITERATIONS)
        self._await(lambda: username not in self.users(), f"the sealing of {username}'s credential")
        return True

    @staticmethod
    def _altered(errors: dict[str, str | None], username: str) -> None:
        if errors.get(username):
            raise PrincipalError(f"the broker refused to change the credential of {username}: {errors[username]}")

    def acls_of(self, principal: str) -> list[ACL]:
        """Every ACL naming `principal`."""
        acls, _ = self._admin.describe_acls(_everything_of(principal))
        return list(acls)

    def grant(self, acls: Sequence[ACL]) -> None:
        """Add `acls` (those already there are kept as they are); wait until the broker enforces them."""
        result = self._admin.create_acls(list(acls))
        if result["failed"]:
            raise PrincipalError(f"the broker refused {len(result['failed'])} ACLs: {result['failed']}")
        principals = {acl.principal.removeprefix("User:") for acl in acls}
        self._await(
            lambda: set(acls) <= {a for p in principals for a in self.acls_of(p)}, f"the ACLs of {sorted(principals)}"
        )

    def revoke(self, principal: str) -> int:
        """Delete every ACL naming `principal`; how many there were."""
        [(_, removed, error)] = self._admin.delete_acls([_everything_of(principal)])
        if error.errno:
            raise PrincipalError(f"the broker refused to delete the ACLs of {principal}: {error.__name__}")
        self._await(lambda: not self.acls_of(principal), f"the removal of {principal}'s ACLs")
        return len(removed)

    def create_topics(
        self, names: Iterable[str], partitions: int, configs: Mapping[str, str] | None = None
    ) -> list[str]:
        """Create those of `names` the cluster lacks, with topic `configs` (e.g. retention.ms); the ones created."""
        missing = sorted(set(names) - set(self._admin.list_topics()))
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # made meanwhile by another admin
                self._admin.create_topics(
                    [
                        NewTopic(n, num_partitions=partitions, replication_factor=1, topic_configs=dict(configs or {}))
                        for n in missing
                    ]
                )
        return missing

    @staticmethod
    def _await(done: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + PROPAGATION_SECONDS
        while not done():
            if time.monotonic() > deadline:
                raise PrincipalError(f"{what} did not reach the broker within {PROPAGATION_SECONDS:.0f} s")
            time.sleep(0.1)


def ensure_worker(admin: BrokerAdmin, prefix: str, password: str) -> str:
    """The worker principal of `prefix` with `password` (set only when it has no credential yet) and its ACLs."""
    username = worker_principal(prefix)
    if username not in admin.users():
        admin.set_password(username, password)
    admin.grant(worker_acls(prefix))
    return username


def add_partner(
    admin: BrokerAdmin,
    prefix: str,
    partner: str,
    datasets: Iterable[str],
    partitions: int,
    topic_configs: Mapping[str, str],
) -> tuple[PartnerGrant, str]:
    """A new partner principal with a new random password, allowed to write its own topics of `datasets` (created
    here, with `topic_configs`: the hub's retention); the grant and the password (to be shown once). PrincipalError
    if the partner has a credential already."""
    if not PARTNER_ID.fullmatch(partner):
        raise PrincipalError(f"partner id {partner!r} is not a slug ([a-z0-9][a-z0-9-]*)")
    username = partner_principal(prefix, partner)
    if username in admin.users():
        raise PrincipalError(
            f"{partner} already has a credential ({username}): `hub partners rotate {partner}` gives it a new "
            f"password, `hub partners revoke {partner}` removes it"
        )
    topics = partner_topics(prefix, partner, datasets)
    admin.create_topics(topics, partitions, topic_configs)
    password = new_password()
    admin.set_password(username, password)
    admin.grant(partner_acls(prefix, partner, topics))
    return PartnerGrant(partner, username, tuple(topics)), password


def list_partners(admin: BrokerAdmin, prefix: str) -> list[PartnerGrant]:
    """Every partner of `prefix` that has a credential, with the topics it may write."""
    start = partner_principal(prefix, "")
    grants = []
    for username in sorted(admin.users()):
        partner = username.removeprefix(start)
        if not username.startswith(start) or not PARTNER_ID.fullmatch(partner):
            continue
        topics = sorted(
            acl.resource_pattern.resource_name
            for acl in admin.acls_of(username)
            if acl.operation == ACLOperation.WRITE and acl.resource_pattern.resource_type == ResourceType.TOPIC
        )
        grants.append(PartnerGrant(partner, username, tuple(topics)))
    return grants


def revoke_partner(admin: BrokerAdmin, prefix: str, partner: str) -> tuple[bool, int]:
    """Seal the partner's credential and delete its ACLs (its topics stay, for the worker to drain): whether it had a
    live credential, and how many ACLs were removed."""
    username = partner_principal(prefix, partner)
    return admin.seal_credential(username), admin.revoke(username)


def rotate_partner(admin: BrokerAdmin, prefix: str, partner: str) -> str:
    """A new random password for an existing partner (the old one stops working); the password, to be shown once."""
    username = partner_principal(prefix, partner)
    if username not in admin.users():
        raise PrincipalError(f"{partner} has no credential ({username}): `hub partners add {partner}` makes one")
    password = new_password()
    admin.set_password(username, password)
    return password
