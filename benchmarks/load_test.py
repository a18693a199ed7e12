"""The API under load: N analysts, each with an API key of their own, on the two typical queries against the real
`hub api`, with one greedy caller joining a third of the way in.

The database is `benchmarks/warehouse_queries.py`'s (built, or reused with --database), its run-time roles granted
their privileges; `hub api` runs in a subprocess as the API's database role, with the environment the `hub` CLI
reads (HUB_API_KEY_REQUESTS_PER_MINUTE and the pool settings pass through). Each analyst holds a key of
east-sussex-csp or essex-csp (alternately) and asks the areas that CSP's districts hold whole
(`warehouse_queries.typical_queries`): ward x month counts for one CSP over 36 months, or district trends by
quarter for a county, one at random, with a randomised think time (uniform, 0.5x to 1.5x --think) between answers.
From a third of the run until its end a greedy caller (one more key) asks the same queries on --greedy-connections
connections at once, with no pause, ignoring Retry-After.

Printed: p50/p95/p99 per query, requests/s, answers by status (analysts and greedy caller apart), 5xx count, error
rate (5xx and no answer, of every request), the greedy caller's 429s and how many carried Retry-After, and the
analysts' p95 while the greedy caller ran over before it.

    .venv/bin/hub up
    .venv/bin/python -m benchmarks.load_test --events 1000000 --database lt_1m [--analysts 50] [--duration 120]
    HUB_API_KEY_REQUESTS_PER_MINUTE=120 .venv/bin/python -m benchmarks.load_test --database lt_1m
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from benchmarks.warehouse_queries import (
    ANALYSTS,
    Timings,
    add_database_arguments,
    analyst_areas,
    bench_database,
    typical_queries,
)
from deploy.protocol_files import configured_register
from deploy.settings import EMBEDDED_DATABASE_ROLES, DatabaseSettings, LocalSettings, api_settings
from tests.support.web_server import LOOPBACK, free_port
from warehouse.governance.keys import create_key
from warehouse.schema.db import session_scope
from warehouse.schema.privileges import grant_runtime_roles

NO_ANSWER = 0  # a Sample's status when the request got no answer (connection refused, reset or timed out)


@dataclass(frozen=True)
class Ask:
    """One request an analyst may make: a typical query (`path`) for one area."""

    path: str
    params: dict[str, str]


@dataclass(frozen=True)
class Sample:
    """One request: who asked (`analyst` or `greedy`), what, when (seconds from the run's start), how long it took,
    its status (NO_ANSWER: none) and whether a Retry-After header came with it."""

    caller: str
    path: str
    started: float
    ms: float
    status: int
    retry_after: bool


def server_errors(samples: Sequence[Sample]) -> int:
    """Answers with a 5xx status."""
    return sum(1 for s in samples if s.status >= 500)


def error_rate(samples: Sequence[Sample]) -> float:
    """The share of requests answered 5xx or not at all (a 429 is the limit working, not an error)."""
    failed = sum(1 for s in samples if s.status >= 500 or s.status == NO_ANSWER)
    return failed / len(samples) if samples else 0.0


def answered_ms(samples: Sequence[Sample], start: float = 0.0, end: float = float("inf")) -> list[float]:
    """Latencies of the 200 answers to requests started in [start, end)."""
    return [s.ms for s in samples if s.status == 200 and start <= s.started < end]


def p95_or_none(ms: Sequence[float]) -> float | None:
    return Timings(list(ms)).p95 if ms else None


def api_database_url(owner_url: str) -> str:
    """The URL the API's role connects to the benchmark database with, having granted the run-time roles their
    privileges there (as `hub db upgrade` does); the owner's URL when the server has no run-time roles (an external
    database given by one URL)."""
    database = DatabaseSettings()
    name = urlsplit(owner_url).path.lstrip("/")
    if not database.external:
        grant_runtime_roles(owner_url, EMBEDDED_DATABASE_ROLES["worker"], EMBEDDED_DATABASE_ROLES["api"])
        return LocalSettings().database_url(name, "api")
    roles = database.runtime_roles()
    if roles is None:
        return owner_url
    grant_runtime_roles(owner_url, *roles)
    parts = urlsplit(database.role_url("api"))
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


@contextmanager
def hub_api(owner_url: str, api_url: str, log: Path, timeout: float = 120) -> Iterator[str]:
    """`hub api` in a subprocess on a free loopback port, as the API's role, until the block ends; its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "HUB_DATABASE_URL": owner_url,
        "HUB_DATABASE_API_URL": api_url,
        "HUB_API_HOST": LOOPBACK,
        "HUB_API_PORT": str(port),
    }
    base = f"http://{LOOPBACK}:{port}"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "deploy.cli", "api"], env=env, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise SystemExit(f"`hub api` exited with {process.returncode}; see {log}")
            try:
                if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"`hub api` did not answer /healthz within {timeout:.0f} s; see {log}")
            time.sleep(0.5)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _ask(client: httpx.AsyncClient, caller: str, ask: Ask, key: str, t0: float) -> Sample:
    started = time.monotonic()
    try:
        response = await client.get(ask.path, params=ask.params, headers={"Authorization": f"Bearer {key}"})
        status, retry_after = response.status_code, "retry-after" in response.headers
    except httpx.HTTPError:
        status, retry_after = NO_ANSWER, False
    return Sample(caller, ask.path, started - t0, (time.monotonic() - started) * 1000, status, retry_after)


async def _analyst(
    base: str, key: str, asks: Sequence[Ask], think: float, t0: float, until: float, seed: int, out: list[Sample]
) -> None:
    """Ask one of `asks` at random, think 0.5x to 1.5x `think` seconds, again until `until` (the first ask after
    a random part of one think time)."""
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        await asyncio.sleep(rng.uniform(0, think))
        while time.monotonic() < until:
            out.append(await _ask(client, "analyst", rng.choice(asks), key, t0))
            await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))


async def _greedy(
    base: str, key: str, asks: Sequence[Ask], connections: int, t0: float, start: float, until: float, out: list[Sample]
) -> None:
    """From `start` until `until`, `connections` requests at once with no pause, Retry-After ignored."""
    await asyncio.sleep(max(0.0, start - time.monotonic()))
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:

        async def loop(i: int) -> None:
            while time.monotonic() < until:
                out.append(await _ask(client, "greedy", asks[i % len(asks)], key, t0))
                i += connections

        await asyncio.gather(*(loop(i) for i in range(connections)))


async def run_load(
    base: str,
    keys: Sequence[tuple[str, str]],
    greedy_key: tuple[str, str],
    asks: dict[str, list[Ask]],
    duration: float,
    think: float,
    connections: int,
    seed: int,
) -> tuple[list[Sample], float]:
    """Every analyst of `keys` ((org, key) each) and the greedy caller for `duration` seconds: the samples and when
    (seconds from the start) the greedy caller began."""
    t0 = time.monotonic()
    until, greedy_from = t0 + duration, duration / 3
    samples: list[Sample] = []
    analysts = [
        _analyst(base, key, asks[org], think, t0, until, seed + i, samples) for i, (org, key) in enumerate(keys)
    ]
    greedy = _greedy(base, greedy_key[1], asks[greedy_key[0]], connections, t0, t0 + greedy_from, until, samples)
    await asyncio.gather(*analysts, greedy)
    return samples, greedy_from


def _line(label: str, ms: Sequence[float], n: int) -> str:
    if not ms:
        return f"  {label:44} {'-':>9} {'-':>9} {'-':>9} {n:7,}"
    t = Timings(list(ms))
    return f"  {label:44} {t.p50:9.1f} {t.p95:9.1f} {t.p99:9.1f} {n:7,}"


def report(samples: Sequence[Sample], duration: float, greedy_from: float) -> None:
    """Print the figures of one run."""
    mine = [s for s in samples if s.caller == "analyst"]
    greedy = [s for s in samples if s.caller == "greedy"]
    print()
    print(f"analysts' answers (200) {'':20} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9} {'asked':>7}")
    by_path: dict[str, list[Sample]] = defaultdict(list)
    for s in mine:
        by_path[s.path].append(s)
    for path, asked in sorted(by_path.items()):
        print(_line(f"GET {path}", answered_ms(asked), len(asked)))
    print(_line("all", answered_ms(mine), len(mine)))
    print(_line("greedy caller's 200 answers", answered_ms(greedy), len(greedy)))
    print()
    print(f"requests/s: {len(samples) / duration:,.1f} in all, analysts {len(mine) / duration:,.2f}, ", end="")
    print(f"greedy caller {len(greedy) / max(duration - greedy_from, 1e-9):,.1f} (while it ran)")
    for who, asked in (("analysts", mine), ("greedy caller", greedy)):
        statuses = ", ".join(f"{k or 'no answer'}: {v:,}" for k, v in sorted(Counter(s.status for s in asked).items()))
        print(f"answers by status, {who}: {statuses or 'none'}")
    print(f"5xx: {server_errors(samples):,}; error rate (5xx or no answer): {error_rate(samples):.2%}")
    limited = [s for s in greedy if s.status == 429]
    carried = sum(1 for s in limited if s.retry_after)
    print(f"greedy caller's 429s: {len(limited):,} ({carried:,} with Retry-After); analysts' 429s: ", end="")
    print(f"{sum(1 for s in mine if s.status == 429):,}")
    before, during = p95_or_none(answered_ms(mine, 0, greedy_from)), p95_or_none(answered_ms(mine, greedy_from))
    if before is None or during is None:
        print("analysts' p95 before / while the greedy caller ran: not enough answers")
    else:
        print(
            f"analysts' p95: {before:,.1f} ms before the greedy caller, {during:,.1f} ms while it ran "
            f"({during / before:.2f}x)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_database_arguments(parser)
    parser.add_argument("--analysts", type=int, default=50)
    parser.add_argument("--duration", type=float, default=120, help="seconds of load")
    parser.add_argument("--think", type=float, default=10, help="an analyst's mean pause between answers (s)")
    parser.add_argument("--greedy-connections", type=int, default=8)
    args = parser.parse_args()
    load = os.getloadavg()
    with bench_database(args.database, args.events, args.chunk, args.seed) as owner_url:
        register = configured_register()
        asks: dict[str, list[Ask]] = defaultdict(list)
        for typical in typical_queries(owner_url, analyst_areas(register, datetime.now(UTC).date())):
            for area_level, area, org in typical.areas:
                asks[org].append(Ask(typical.path, typical.api_params(area_level, area)))
        if set(asks) != set(ANALYSTS):
            raise SystemExit(f"not every analyst organisation of {ANALYSTS} has areas to ask")
        with session_scope(owner_url) as session:
            orgs = [ANALYSTS[i % len(ANALYSTS)] for i in range(args.analysts + 1)]
            keys = [(org, create_key(session, org, "analyst")) for org in orgs]
        api_url = api_database_url(owner_url)
        limit = api_settings().key_requests_per_minute
        print(f"{args.analysts} analysts for {args.duration:.0f} s, think time ~{args.think:.0f} s; a greedy caller")
        print(f"on {args.greedy_connections} connections from {args.duration / 3:.0f} s; {limit} requests/min per key")
        print(f"load average at the start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        with hub_api(owner_url, api_url, LocalSettings().logs / "load-test-api.log") as base:
            samples, greedy_from = asyncio.run(
                run_load(base, keys[:-1], keys[-1], asks, args.duration, args.think, args.greedy_connections, 17)
            )
        report(samples, args.duration, greedy_from)
        end = os.getloadavg()
        print(f"load average at the end: {end[0]:.2f} {end[1]:.2f} {end[2]:.2f}")


if __name__ == "__main__":
    main()
