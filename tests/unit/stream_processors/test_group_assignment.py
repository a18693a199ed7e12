"""How the loader's group shares a topic's partitions when a worker joins late: faust's assignor, with the replicas
the worker's app is configured with, gives the newcomer a share."""

from __future__ import annotations

import pytest
from faust.assignor.client_assignment import CopartitionedAssignment
from faust.assignor.copartitioned_assignor import CopartitionedAssignor
from pydantic import SecretStr

from broker_access.credentials import BrokerAccess
from stream_processors.app import consumer_settings, membership_settings
from stream_processors.fetcher import BatchApp
from stream_processors.settings import WorkerSettings

ACCESS = BrokerAccess(servers="b1:9093", username="hub.worker", password=SecretStr("s3cret"))
TOPIC = "hub.police-uk-street"


def app_replicas() -> int:
    """The standby replicas the worker's app gives faust's partition assignor (made, never started)."""
    worker = WorkerSettings(broker=ACCESS, database_url="postgresql://hub@localhost/hub")
    app = BatchApp(worker.group, **consumer_settings(worker.broker, 10), **membership_settings(worker))
    return int(app.assignor.replicas)


def reassigned(held: list[set[int]], partitions: int) -> list[set[int]]:
    """The active partitions of each member after a rebalance from `held` (a member with an empty set: it has just
    joined), as the app's assignor gives them."""
    members = {
        f"member-{n}": CopartitionedAssignment(actives=set(actives), topics={TOPIC}) for n, actives in enumerate(held)
    }
    assignor = CopartitionedAssignor([TOPIC], members, partitions, app_replicas())
    assignment = assignor.get_assignment()
    return [assignment[f"member-{n}"].actives for n in range(len(held))]


@pytest.mark.parametrize(
    ("held", "partitions"),
    [
        ([{0, 1}, {2, 3}, {4, 5}, set()], 6),  # three workers on six partitions, a fourth added (seen in the faults)
        ([{0, 1, 2}, {3, 4, 5}, set()], 6),
        ([{0, 1, 2, 3}, {4, 5, 6, 7}, set(), set()], 8),  # two workers, two added at once
    ],
)
def test_a_worker_that_joins_late_is_given_a_share_and_every_partition_one_member(
    held: list[set[int]], partitions: int
) -> None:
    after = reassigned(held, partitions)
    assert all(after), f"a member was given nothing: {after}"
    assert sorted(p for actives in after for p in actives) == list(range(partitions))
    assert max(map(len, after)) - min(map(len, after)) <= 1, f"not balanced: {after}"
