"""A faust agent that only counts: the framework's own consumption ceiling (run by benchmarks/ceilings.py).

python -m benchmarks.faust_noop TOPIC COUNT   # events/s once COUNT events were seen (signed in as the operator)
"""

from __future__ import annotations

import os
import sys
import time

import faust

from deploy.settings import broker_access
from stream_processors.app import consumer_settings
from stream_processors.settings import WorkerSettings


def main(topic: str, count: int) -> None:
    access = broker_access("admin")
    app = faust.App(f"noop-{time.time_ns()}", **consumer_settings(access, WorkerSettings(broker=access).batch_size))
    seen = {"n": 0, "t0": 0.0}

    async def count_events(stream: faust.StreamT[bytes]) -> None:
        assert isinstance(stream, faust.Stream)
        async for events in stream.take_events(5000, within=0.5):
            if not seen["n"]:
                seen["t0"] = time.perf_counter()
            seen["n"] += len(events)
            if seen["n"] >= count:
                # faust redirects sys.stdout into its logger: write to the real stdout.
                os.write(1, f"\n{seen['n'] / (time.perf_counter() - seen['t0']):.0f}\n".encode())
                os._exit(0)

    app.agent(app.topic(topic, key_type=bytes, value_type=bytes), concurrency=1)(count_events)
    sys.argv = [sys.argv[0], "worker"]
    faust.Worker(app, loglevel="error", quiet=True).execute_from_commandline()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
