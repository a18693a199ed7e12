"""The loader's own work per event, stage by stage, for the batch path against the per-event path it replaced.

Real police.uk rows (jittered, `benchmarks/jitter.py`) become envelopes as `hub publish` makes them, on the
partner topic of the police.uk street feed; batches of them go through decode, geocode (wards of May 2024 with
their district, county, CSP and force), the packaged protocols' warehouse decision, row shaping and, with
`--sink`, the warehouse write (COPY + upsert in a fresh database of the local stack). The old path is the
reference copy in `tests/support/loader_reference.py`.

    .venv/bin/python -m benchmarks.loader_stages --events 200000 [--batch 5000] [--sink]
"""

from __future__ import annotations

import argparse
import csv
import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from benchmarks.ceilings import payloads
from benchmarks.jitter import write_jittered
from deploy.protocol_files import packaged_protocols_dir
from deploy.settings import KafkaSettings, LocalSettings
from geography.geocoder import AreaIndex, Geocoder, GeocodeResult
from producers.feed_registry import get_feed
from sharing_protocols.decision import Decision, ProtocolRegister
from sharing_protocols.protocol import parse_protocol
from stream_processors import batch
from stream_processors.batch import BatchResult, RawMessage
from stream_processors.decision_memo import WarehouseDecisions
from stream_processors.loader import write_batch
from tests.support import loader_reference as old
from warehouse.reference.boundaries import read_areas
from warehouse.sink import WarehouseSink

WARDS = "boundaries/wards_2024_bsc_epsg27700.geojson"
LAD_CSP_PFA = "lookups/lad24_csp24_pfa24_england_wales.csv"
STAGES = ("decode", "geocode", "decide", "shape", "collect", "sink")
AT = datetime(2026, 12, 3, tzinfo=UTC)


def bench_geocoder(shared: Path) -> Geocoder:
    """Wards of May 2024 (Essex, East Sussex, Hampshire) rolled up to district, county, CSP and force."""
    records = read_areas(shared / WARDS, "ward_code", "ward_name")
    with (shared / LAD_CSP_PFA).open(encoding="utf-8", newline="") as handle:
        above = {row["ltla24_code"]: row for row in csv.DictReader(handle)}
    rollups: dict[str, dict[str, str]] = {}
    for record in records:
        lad = str(record.properties["lad_code"])
        rollups[record.code] = {"lad": lad, "county": str(record.properties["county_code"])}
        if lad in above:
            rollups[record.code] |= {"csp": above[lad]["csp24_code"], "pfa": above[lad]["pfa24_code"]}
    wards = AreaIndex("ward", "wards-2024", [r.code for r in records], [r.geom for r in records])
    return Geocoder(wards, rollups=rollups)


def packaged_register() -> ProtocolRegister:
    directory = packaged_protocols_dir()
    return ProtocolRegister(parse_protocol(p.read_text(encoding="utf-8"), p.name) for p in directory.glob("*.yaml"))


def messages(shared: Path, work: Path, count: int, prefix: str) -> list[RawMessage]:
    """`count` envelopes of jittered police.uk rows as the loader consumes them from the feed's partner topic."""
    return messages_of(write_jittered(shared, work / f"jittered-{count}.csv", count), count, prefix)


def messages_of(csv_path: Path, count: int, prefix: str) -> list[RawMessage]:
    """The first `count` rows of the police.uk street file `csv_path` as the loader consumes them."""
    feed = get_feed("police-uk-street")
    topic = KafkaSettings(topic_prefix=prefix).partner_topic("police-uk-street", feed.default_partner)
    return [RawMessage(topic, 0, i, key, value) for i, (key, value) in enumerate(payloads(csv_path, count))]


@dataclass
class Timings:
    """Seconds per stage over all events, and how many events."""

    seconds: dict[str, float]
    events: int
    outcomes: tuple[int, int, int]  # rows released, decisions withheld, dead letters

    def per_event_us(self, stage: str) -> float:
        return self.seconds.get(stage, 0.0) / self.events * 1e6


def _timed(seconds: dict[str, float], stage: str, work: Callable[[], object]) -> object:
    """`work()`, its time added to `seconds[stage]`: this process's CPU time for the Python stages (the machine is
    shared, so wall time would count other processes' turns), wall time for the sink (the database's work)."""
    clock = time.perf_counter if stage == "sink" else time.process_time
    started = clock()
    out = work()
    seconds[stage] = seconds.get(stage, 0.0) + clock() - started
    return out


def new_stages(
    msgs: Sequence[RawMessage],
    geocoder: Geocoder,
    prefix: str,
    register: ProtocolRegister,
    at: datetime,
    seconds: dict[str, float],
    memo: WarehouseDecisions | None = None,
) -> BatchResult:
    """`batch.process`, its stages timed into `seconds` (the collector paused, as `process` does).

    "collect" is the collection the paused collector owes once it is on again (it runs at the first allocation
    after the batch, which the list below makes), so that the pause's deferred cost is counted, not hidden.
    """
    before = sum(seconds.values())
    started = time.process_time()
    with batch.collection_paused():
        result = _new_stages(msgs, geocoder, prefix, register, at, seconds, memo)
    _ = [[]]  # the first container allocated with the collector on: any collection owed runs here
    seconds["collect"] = seconds.get("collect", 0.0) + time.process_time() - started - (sum(seconds.values()) - before)
    return result


def _new_stages(
    msgs: Sequence[RawMessage],
    geocoder: Geocoder,
    prefix: str,
    register: ProtocolRegister,
    at: datetime,
    seconds: dict[str, float],
    memo: WarehouseDecisions | None,
) -> BatchResult:
    decoded = cast(batch.Decoded, _timed(seconds, "decode", lambda: batch.decode_batch(msgs, prefix)))
    places, wheres = cast(
        tuple[list[GeocodeResult], list[batch.Where]],
        _timed(seconds, "geocode", lambda: batch.geocode_batch(geocoder, decoded)),
    )
    decisions = cast(
        list[Decision],
        _timed(
            seconds, "decide", lambda: batch.decide_batch(batch.memo_for(register, at, memo), decoded, places, wheres)
        ),
    )
    return cast(BatchResult, _timed(seconds, "shape", lambda: batch.shape_batch(decoded, places, wheres, decisions)))


def _write(path: str, sink: WarehouseSink, result: BatchResult) -> object:
    if path == "old":
        return old.write(sink, result)
    return write_batch(sink, result)  # its COPY text made in "shape", as the worker makes it


def stage_timings(
    msgs: Sequence[RawMessage],
    geocoder: Geocoder,
    register: ProtocolRegister,
    prefix: str,
    batch_size: int = 5000,
    sink_url: str | None = None,
) -> dict[str, Timings]:
    """Per-stage seconds of the old per-event path and the new batch path over `msgs`, in batches.

    With `sink_url` (an empty, migrated warehouse per path) the write of each batch is timed as well.
    """
    out: dict[str, Timings] = {}
    for name, stages in (("old", old.stages), ("new", new_stages)):
        seconds: dict[str, float] = {}
        released = withheld = dead = 0
        sink = WarehouseSink(sink_url.replace("{path}", name)) if sink_url else None
        memo = batch.memo_for(register, AT, None)
        for start in range(0, len(msgs), batch_size):
            chunk = msgs[start : start + batch_size]
            result = stages(chunk, geocoder, prefix, register, AT, seconds, memo)
            released, withheld = released + len(result.events), withheld + result.withheld
            dead += len(result.dead_letters)
            if sink is not None:
                _timed(seconds, "sink", lambda: _write(name, sink, result))  # noqa: B023
        if sink is not None:
            sink.close()
        out[name] = Timings(seconds, len(msgs), (released, withheld, dead))
    return out


def report(timings: dict[str, Timings]) -> list[str]:
    """Lines of a table: us/event per stage for old and new, and old/new."""
    lines = [f"{'stage':10} {'old us/event':>14} {'new us/event':>14} {'old/new':>8}"]
    for stage in (*STAGES, "total"):
        if stage == "total":
            a = sum(timings["old"].per_event_us(s) for s in STAGES)
            b = sum(timings["new"].per_event_us(s) for s in STAGES)
        else:
            a, b = timings["old"].per_event_us(stage), timings["new"].per_event_us(stage)
        if a or b:
            lines.append(f"{stage:10} {a:14.1f} {b:14.1f} {a / b if b else float('inf'):8.1f}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--sink", action="store_true", help="also time the warehouse write (starts the local stack)")
    args = parser.parse_args()
    settings = LocalSettings()
    shared = settings.shared_data.resolve()
    prefix = "hub"
    msgs = messages(shared, settings.home.resolve() / "bench", args.events, prefix)
    geocoder = bench_geocoder(shared)
    register = packaged_register()
    batch.freeze_start_up_heap()  # as `hub worker` does once its loader is built (both paths gain from it)
    databases: list[str] = []
    url = None
    if args.sink:
        from deploy import local
        from warehouse.schema import migrate

        for line in local.up():
            print(line)
        suffix = uuid.uuid4().hex[:8]
        for path in ("old", "new"):
            name = f"bench_stages_{path}_{suffix}"
            created = local.create_database(name)
            migrate.upgrade(created)
            databases.append(name)
            url = created.replace(name, f"bench_stages_{{path}}_{suffix}")
    try:
        timings = stage_timings(msgs, geocoder, register, prefix, args.batch, url)
    finally:
        if databases:
            from deploy import local

            for name in databases:
                local.drop_database(name)
    outcomes = {path: t.outcomes for path, t in timings.items()}
    if outcomes["old"] != outcomes["new"]:
        raise SystemExit(f"the two paths disagree (released, withheld, dead letters): {outcomes}")
    released, withheld, dead = outcomes["new"]
    print(f"events: {args.events:,} in batches of {args.batch:,}; both paths: {released:,} released, ", end="")
    print(f"{withheld:,} withheld, {dead:,} dead letters")
    for line in report(timings):
        print(line)
    print(json.dumps({k: {s: round(v.per_event_us(s), 2) for s in STAGES} for k, v in timings.items()}))


if __name__ == "__main__":
    main()
