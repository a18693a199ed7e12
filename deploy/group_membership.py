"""Leaving the loader's group as a static member, once the worker has stopped on request.

aiokafka (0.14) never sends LeaveGroup for a consumer with a group instance id: a static member that stops keeps its
partitions until its session times out, so that a restart with the same id takes them back at once. That is right
for a crash (the container is restarted in place, under the same pod name), wrong for a stop on request (SIGTERM,
Ctrl-C: a rollout or a scale-down, after which no worker of that id comes back): then `hub worker` removes its
member itself (LeaveGroup v3 by instance id), and the others get its partitions without waiting.
"""

from __future__ import annotations

import logging

from kafka import KafkaAdminClient
from kafka.admin import MemberToRemove
from kafka.errors import KafkaError

from broker_access.credentials import BrokerAccess

log = logging.getLogger(__name__)


def leave_as_static_member(access: BrokerAccess, group: str, instance_id: str, timeout_s: float = 10.0) -> bool:
    """Remove the member `instance_id` from `group` (as `access`'s principal, which may read the group); whether the
    broker did. Best effort: a failure is logged by its kind (the member then times out as after a crash)."""
    try:
        admin = KafkaAdminClient(
            **access.kafka_python(),
            client_id="hub-worker-leave",
            request_timeout_ms=int(timeout_s * 1000),
            bootstrap_timeout_ms=int(timeout_s * 1000),
        )
    except KafkaError as exc:
        log.warning("could not leave the group as %s (%s); its session will time out", instance_id, type(exc).__name__)
        return False
    try:
        results = admin.remove_group_members(group, [MemberToRemove(group_instance_id=instance_id)])
    except KafkaError as exc:
        log.warning("could not leave the group as %s (%s); its session will time out", instance_id, type(exc).__name__)
        return False
    finally:
        admin.close()
    failed = [error.__name__ for error in results.values() if error.errno != 0]
    if failed:
        log.warning("the group did not let %s leave (%s); its session will time out", instance_id, ", ".join(failed))
        return False
    log.info("left the group as static member %s", instance_id)
    return True
