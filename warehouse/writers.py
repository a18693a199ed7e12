"""The order of the warehouse's writers of `event`: a transaction-level advisory lock, the first statement of each.

The worker's batches take it shared: the workers of a group own distinct topic partitions, so distinct event ids, and
write side by side (but for a rebalance, when a worker that lost a partition may still be writing its last batch while
the new owner writes the same messages: the sink's later-offset guards and its fresh read of the decisions are all that
stand between those two). A `hub replay` batch and a retention run take it exclusively, so that neither reads an event's
stored versions (or its decisions) while another writer is between such a read and its write: a version the worker moved
to another month, or retention retired, meanwhile would otherwise be written back beside it, or loaded again. The lock
is released at the transaction's end (commit, rollback or a lost connection). A retention run holds it for its whole
transaction, so the workers load nothing while it runs: run it when loading is quiet.
"""

from __future__ import annotations

# One key (PostgreSQL's single-bigint form), named as the partition lock of migration 0006 is.
_KEY = "hashtext('hub_event_writers')"
_SHARED = f"SELECT pg_advisory_xact_lock_shared({_KEY})"  # the worker's batch
_EXCLUSIVE = f"SELECT pg_advisory_xact_lock({_KEY})"  # a replay's batch, a retention run


def writers_lock(exclusive: bool) -> str:
    """The statement that takes the writers' lock, exclusively or shared; run it first in the transaction."""
    return _EXCLUSIVE if exclusive else _SHARED
