"""Where a repeated answer's time goes: `/v1/counts` (ward x month, one CSP, 36 months) and `/v1/trends` (districts
by quarter, one county) asked again and again through the API (FastAPI TestClient), each part timed around its
function (wall clock): the service, the clause sets, the differencing guard, its look-ups and the record's write.

```sh
.venv/bin/python -m benchmarks.repeated_answers --database qb_1m --events 1000000 --runs 30
```

The database is `benchmarks/warehouse_queries.py`'s (built when it has no events). Each area is asked once first
(not timed), so every timed answer is one the organisation was given before. A part whose function this checkout
does not have (e.g. the digest's probe, `repeated`, before migration 0028) is left out.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

import api.aggregate_query
import api.edge
import api.released_figures
import api.services.counts
import api.services.trends
from api.factory import create_app
from benchmarks.warehouse_queries import (
    add_database_arguments,
    analyst_areas,
    analyst_keys,
    bench_database,
    typical_queries,
)
from deploy.protocol_files import configured_register
from deploy.settings import geocoder_settings
from warehouse.settings import WarehouseSettings

# (label, module, attribute): the functions timed, where the API calls them
PARTS = (
    ("the service (query, disclosure control, guard)", api.services.counts, "counts"),
    ("the service (query, disclosure control, guard)", api.services.trends, "trends"),
    ("of which the clause sets (`justifying_sets`)", api.aggregate_query, "justifying_sets"),
    ("of which the guard (`Recorder._guarded`)", api.released_figures.Recorder, "_guarded"),
    ("of which the digest's probe (`repeated`)", api.released_figures, "repeated"),
    ("of which `shown_alike` (the look-up of every figure)", api.released_figures, "shown_alike"),
    ("the access and release record (`write_access`)", api.edge, "write_access"),
)


@contextmanager
def parts_timed() -> Iterator[dict[str, list[float]]]:
    """Wrap each function of PARTS that exists to add its wall-clock milliseconds to its label's list."""
    spent: dict[str, list[float]] = defaultdict(list)
    undo = []
    for label, owner, name in PARTS:
        original = getattr(owner, name, None)
        if original is None:
            continue

        def timed(*args: Any, _label: str = label, _original: Callable[..., Any] = original, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                spent[_label].append((time.perf_counter() - started) * 1000)

        setattr(owner, name, timed)
        undo.append((owner, name, original))
    try:
        yield spent
    finally:
        for owner, name, original in undo:
            setattr(owner, name, original)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_database_arguments(parser)
    parser.add_argument("--runs", type=int, default=30, help="timed repeated answers of each query")
    args = parser.parse_args()
    with bench_database(args.database, args.events, args.chunk, args.seed) as url:
        register = configured_register()
        keys = analyst_keys(url)
        app = create_app(WarehouseSettings(url=url), register, geocoder_settings())
        with TestClient(app) as client:
            for typical in typical_queries(url, analyst_areas(register, datetime.now(UTC).date())):
                asked = [
                    (typical.api_params(level, area), {"Authorization": f"Bearer {keys[org]}"})
                    for level, area, org in typical.areas
                ]
                sizes = []
                for params, headers in asked:  # every answer timed below is one given before
                    response = client.get(typical.path, params=params, headers=headers)
                    assert response.status_code == 200, response.text
                    sizes.append(len(response.content))
                whole = []
                with parts_timed() as spent:
                    for i in range(args.runs):
                        params, headers = asked[i % len(asked)]
                        started = time.perf_counter()
                        response = client.get(typical.path, params=params, headers=headers)
                        whole.append((time.perf_counter() - started) * 1000)
                        assert response.status_code == 200, response.text
                print(f"\n{typical.name}: {args.runs} repeated answers over {len(asked)} areas")
                print(
                    f"  {'the whole request (TestClient)':58} mean {np.mean(whole):7.1f} ms  p95 "
                    f"{np.percentile(whole, 95):7.1f} ms"
                )
                for label, ms in spent.items():
                    per_answer = sum(ms) / args.runs
                    print(f"  {label:58} mean {per_answer:7.1f} ms per answer ({len(ms)} calls)")
                print(f"  {'the answer size':58} {np.mean(sizes) / 1000:7.0f} kB")


if __name__ == "__main__":
    main()
