"""What each principal is allowed on the broker: the worker's and a partner's ACLs, spelled out."""

from __future__ import annotations

from typing import Any

from kafka.admin import ACLOperation, ACLPermissionType, ACLResourcePatternType, ResourceType

from deploy.broker_principals import (
    SCRAM_ITERATIONS,
    SEALED_ITERATIONS,
    leader_topic,
    partner_acls,
    partner_topics,
    sealed,
    worker_acls,
    worker_principal,
)
from sharing_protocols.topics import partner_principal

Grant = tuple[str, str, str, str, str]  # principal, operation, resource type, name, pattern


def _grants(acls: list[Any]) -> set[Grant]:
    out = set()
    for acl in acls:
        assert acl.permission_type == ACLPermissionType.ALLOW and acl.host == "*"
        pattern = acl.resource_pattern
        out.add(
            (
                acl.principal,
                acl.operation.name,
                ResourceType(pattern.resource_type).name,
                pattern.resource_name,
                ACLResourcePatternType(pattern.pattern_type).name,
            )
        )
    return out


def test_the_principal_names() -> None:
    assert (worker_principal("hub"), partner_principal("hub", "esfrs")) == ("hub.worker", "hub.partner.esfrs")


def test_the_worker_reads_every_partner_topic_in_its_group_writes_dead_letters_and_runs_fausts_leader_topic() -> None:
    user = "User:hub.worker"
    assert _grants(worker_acls("hub")) == {
        (user, "READ", "TOPIC", "hub.events.", "PREFIXED"),
        (user, "DESCRIBE", "TOPIC", "hub.events.", "PREFIXED"),
        (user, "READ", "GROUP", "hub-warehouse-loader", "LITERAL"),
        (user, "WRITE", "TOPIC", "hub.dead-letter", "LITERAL"),
        (user, "DESCRIBE", "TOPIC", "hub.dead-letter", "LITERAL"),
        (user, "CREATE", "TOPIC", "hub-warehouse-loader-__assignor-__leader", "LITERAL"),
        (user, "DESCRIBE", "TOPIC", "hub-warehouse-loader-__assignor-__leader", "LITERAL"),
        (user, "READ", "TOPIC", "hub-warehouse-loader-__assignor-__leader", "LITERAL"),
    }


def test_fausts_leader_topic_is_named_after_the_app_id() -> None:
    assert leader_topic("t1") == "t1-warehouse-loader-__assignor-__leader"


def test_a_partner_may_write_and_describe_exactly_its_own_topics_and_nothing_else() -> None:
    topics = partner_topics("hub", "esfrs", ["fire-incidents", "fire-incidents"])
    user = "User:hub.partner.esfrs"
    assert (topics, _grants(partner_acls("hub", "esfrs", topics))) == (
        ["hub.events.fire-incidents.esfrs"],
        {
            (user, "WRITE", "TOPIC", "hub.events.fire-incidents.esfrs", "LITERAL"),
            (user, "DESCRIBE", "TOPIC", "hub.events.fire-incidents.esfrs", "LITERAL"),
        },
    )


def test_no_partner_acl_reads_creates_deletes_or_names_a_group() -> None:
    acls = partner_acls(
        "hub", "sussex-police", partner_topics("hub", "sussex-police", ["police-records", "police-uk-street"])
    )
    forbidden = {ACLOperation.READ, ACLOperation.CREATE, ACLOperation.DELETE, ACLOperation.ALTER, ACLOperation.ALL}
    assert [
        acl for acl in acls if acl.operation in forbidden or acl.resource_pattern.resource_type != ResourceType.TOPIC
    ] == []


def test_a_credential_is_sealed_when_every_mechanism_has_the_sealed_iteration_count() -> None:
    sha512 = {"mechanism": "SCRAM-SHA-512", "iterations": SEALED_ITERATIONS}
    assert sealed([sha512])
    assert not sealed([{**sha512, "iterations": SCRAM_ITERATIONS}])
    assert not sealed([sha512, {"mechanism": "SCRAM-SHA-256", "iterations": 4096}])
    assert not sealed([])  # no credential is not a sealed one
    assert SEALED_ITERATIONS != SCRAM_ITERATIONS
