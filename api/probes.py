"""The operator's probe paths (liveness, readiness, metrics): never rate limited, never in the access log."""

from __future__ import annotations

import logging

PROBES = frozenset({"/healthz", "/readyz", "/metrics"})


class ProbeAccessFilter(logging.Filter):
    """Drops uvicorn's access-log lines for the probe paths (a probe every few seconds would bury the rest).

    uvicorn's access records carry (client, method, path with query, HTTP version, status) as arguments.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            return args[2].partition("?")[0] not in PROBES
        return True
