"""Settings of the warehouse loader: the broker and topics it consumes, how it batches and retries."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from broker_access.credentials import BrokerAccess

# Kafka's rule for a group.instance.id (as for a topic name): 1 to 249 of these characters, not "." or "..".
INSTANCE_ID = re.compile(r"[A-Za-z0-9._-]{1,249}")


def loader_group(topic_prefix: str) -> str:
    """The consumer group of the warehouse loader (the faust app id) for the topics of `topic_prefix`."""
    return f"{topic_prefix}-warehouse-loader"


class WorkerSettings(BaseModel):
    """Where the loader consumes from, as whom, and how it batches (the vintages it geocodes to: GeocoderSettings)."""

    model_config = ConfigDict(frozen=True)

    broker: BrokerAccess  # the worker's own principal (`<prefix>.worker` on the hub's brokers)
    topic_prefix: str = "hub"
    partitions: int = 3
    # Larger batches cost less per event in the warehouse (its aggregates are upserted once per group a batch holds):
    # 20,000 loaded 1.1-1.4x what 5,000 did (docs/benchmarks.md, "Batch size"); a batch is also closed after
    # batch_seconds, so a quiet feed waits no longer.
    batch_size: int = 20_000
    batch_seconds: float = 0.5
    retry_max_seconds: float = 30.0
    topic_refresh_seconds: float = 5.0  # how often the broker is asked for partner topics created since the start
    # How long the group waits for a silent worker (killed, cut off) before giving its partitions to the others.
    # Heartbeats come from the consumer's own thread, so a long batch does not count as silence.
    # 6 to 90 s: the broker's default bounds start at 6 s, and faust refuses more than its 90 s request timeout.
    session_timeout_seconds: float = Field(default=10.0, ge=6.0, le=90.0)
    # Static group membership (KIP-345): this worker's own name in the group, kept across its restarts (on Kubernetes
    # the pod's name). A worker restarted with the same id within the session timeout takes its partitions back at
    # once, without waiting for its old session to end; None: a new member on each start (dynamic membership).
    instance_id: str | None = None
    log_level: str = "info"
    # The probes (/healthz, /readyz, /metrics) on metrics_host:metrics_port (0: none); /readyz wants the loader's lag
    # at most ready_lag messages.
    metrics_port: int = Field(default=0, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"
    ready_lag: int = Field(default=100_000, ge=0)

    @field_validator("instance_id")
    @classmethod
    def _kafka_instance_id(cls, value: str | None) -> str | None:
        if value is not None and (INSTANCE_ID.fullmatch(value) is None or value in (".", "..")):
            raise ValueError(
                "a group instance id is 1 to 249 characters among letters, digits, '.', '_' and '-' (not '.' or '..')"
            )
        return value

    @property
    def group(self) -> str:
        return loader_group(self.topic_prefix)
