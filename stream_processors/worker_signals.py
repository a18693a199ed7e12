"""The worker's operator signals: a small threaded HTTP server (/healthz, /readyz, /metrics) and a watch thread
that reads the loader's lag, warns once per broker outage and once per stall. Both run off the event loop."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from stream_processors.worker_metrics import WorkerMetrics
from stream_processors.worker_readiness import WorkerReadiness, stalled, worker_readiness

log = logging.getLogger(__name__)
LAG_POLL_SECONDS = 10.0
DATABASE_RECHECK_SECONDS = 1.0
RETRY_AFTER_S = 10


class WorkerSignals:
    """What the worker's probes answer: lag read by `read_lag` every `poll` seconds (its failures count as the broker
    unreachable), the database asked through `ask_database` (raises when it does not answer; at most once a
    second), and `metrics`."""

    def __init__(
        self,
        metrics: WorkerMetrics,
        read_lag: Callable[[], Mapping[str, int]],
        ask_database: Callable[[], None],
        max_lag: int,
        poll: float = LAG_POLL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.metrics = metrics
        self._read_lag = read_lag
        self._ask_database = ask_database
        self.max_lag = max_lag
        self._poll = poll
        self._clock = clock
        self._lock = threading.Lock()
        self.lag: int | None = None
        self._lag_at: float | None = None
        self._broker_down = False
        self._stalled = False
        self._database: tuple[float, bool] | None = None
        self._stop = threading.Event()

    def read_lag_once(self) -> None:
        """Read the lag, set the gauges, and warn about an outage or a stall (each once until it ends)."""
        try:
            by_topic = dict(self._read_lag())
        except Exception as exc:
            if not self._broker_down:
                self._broker_down = True
                log.warning("broker unreachable: the loader's lag cannot be read (%s)", type(exc).__name__)
            return
        if self._broker_down:
            self._broker_down = False
            log.info("broker reachable again")
        lag = sum(by_topic.values())
        self.metrics.lag_read(by_topic)
        with self._lock:
            self.lag, self._lag_at = lag, self._clock()
        last = self.metrics.last_batch if self.metrics.last_batch is not None else self.metrics.started
        if stalled(lag, self._clock() - last):
            if not self._stalled:
                self._stalled = True
                log.warning(
                    "loader stalled: %d messages waiting and no batch committed for %.0f s", lag, self._clock() - last
                )
        elif self._stalled:
            self._stalled = False
            log.info("loader moving again (%d messages waiting)", lag)

    def readiness(self) -> WorkerReadiness:
        with self._lock:
            lag, lag_at = self.lag, self._lag_at
        lag_age = None if lag_at is None else self._clock() - lag_at
        return worker_readiness(self._database_answers(), lag, lag_age, self.max_lag)

    def _database_answers(self) -> bool:
        now = self._clock()
        with self._lock:
            if self._database is not None and now - self._database[0] < DATABASE_RECHECK_SECONDS:
                return self._database[1]
        try:
            self._ask_database()
            answers = True
        except Exception:
            answers = False
        with self._lock:
            self._database = (self._clock(), answers)
        return answers

    def watch(self) -> None:
        """Read the lag every `poll` seconds until stopped (the watch thread's loop)."""
        while not self._stop.is_set():
            self.read_lag_once()
            self._stop.wait(self._poll)

    def stop(self) -> None:
        self._stop.set()


def _handler(signals: WorkerSignals) -> type[BaseHTTPRequestHandler]:
    class Probes(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server's name
            path = self.path.partition("?")[0]
            if path == "/healthz":
                self._answer(200, "application/json", b'{"status": "ok"}')
            elif path == "/readyz":
                ready = signals.readiness()
                if ready.ready:
                    self._answer(200, "application/json", b'{"status": "ready"}')
                else:
                    body = {
                        "status": 503,
                        "title": "Service Unavailable",
                        "detail": "not ready: " + "; ".join(ready.failures),
                        "checks": list(ready.failures),
                    }
                    self._answer(
                        503, "application/problem+json", json.dumps(body).encode(), {"Retry-After": str(RETRY_AFTER_S)}
                    )
            elif path == "/metrics":
                self._answer(200, CONTENT_TYPE_LATEST, generate_latest(signals.metrics.registry))
            else:
                self._answer(404, "application/json", b'{"status": 404, "detail": "not a probe of the worker"}')

        def _answer(self, status: int, media_type: str, body: bytes, headers: Mapping[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", media_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # probes are not logged
            return

    return Probes


def watch_lag(signals: WorkerSignals) -> None:
    """Start the lag watch in a daemon thread (its warnings are logged whether or not the probes are served)."""
    threading.Thread(target=signals.watch, name="hub-signals-lag", daemon=True).start()


def serve_signals(signals: WorkerSignals, host: str, port: int) -> ThreadingHTTPServer:
    """Start the probe server on (host, port) in a daemon thread; returns the server."""
    server = ThreadingHTTPServer((host, port), _handler(signals))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="hub-signals-http", daemon=True).start()
    log.info("worker probes on http://%s:%d (/healthz, /readyz, /metrics)", host, server.server_address[1])
    return server
