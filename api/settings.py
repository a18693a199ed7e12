"""Settings of the query API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ApiSettings(BaseModel):
    """Where the API listens, what it calls itself, how long one request's statement may run in the warehouse
    (`statement_timeout_s`: longer is cancelled and answered 503), and how many requests a minute one API process
    answers per API key (`key_requests_per_minute`) and per keyless caller's address
    (`address_requests_per_minute`), tracking at most `rate_limited_callers` callers (more: 429, `api.rate_limit`);
    `topic_prefix` is the deployment's topic prefix, to tell a partner its topics (HUB_KAFKA_TOPIC_PREFIX);
    `ready_timeout_s` is how long /readyz waits for the warehouse, and `metrics` serves /metrics (Prometheus)."""

    model_config = ConfigDict(frozen=True)

    host: str = "127.0.0.1"
    port: int = 8000
    title: str = "CSP information-sharing hub"
    statement_timeout_s: float = Field(default=15.0, gt=0)
    # 120: a signed-in page makes a handful of calls, so a full bucket covers a dozen pages at once and one every
    # 5 s after; at 600 one greedy key was never limited on one process (docs/benchmarks.md, "The API under load").
    key_requests_per_minute: int = Field(default=120, ge=1)
    address_requests_per_minute: int = Field(default=120, ge=1)
    rate_limited_callers: int = Field(default=10_000, ge=1)
    topic_prefix: str = "hub"
    ready_timeout_s: float = Field(default=2.0, gt=0)
    metrics: bool = True
