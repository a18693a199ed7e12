"""The loader's memo of warehouse decisions gives, event by event, exactly what `decide_for_warehouse` gives.

Events come from every feed generator (and the police.uk street fixture), with places varied at random: a point
or none, any subset of area levels, districts inside and outside the recipients' areas, a postcode with or
without a sector. Registers: the packaged protocols, and a test protocol mixing every precision, a category
filter, a county scope, a superseded version and a partner that owns other datasets only.
"""

from __future__ import annotations

import calendar
import csv
import random
import uuid
from dataclasses import fields
from datetime import date
from functools import cache
from pathlib import Path

import pytest

from deploy.protocol_files import packaged_protocols_dir
from producers.feed_registry import get_feed
from producers.generators.registry import all_generators
from sharing_protocols.decision import ProtocolRegister, Released, Withheld, decide_for_warehouse
from sharing_protocols.envelope import EventEnvelope, PostcodeLocation
from sharing_protocols.protocol import Protocol, parse_protocol
from stream_processors.decision_memo import WarehouseDecisions, WarehouseEvent
from tests.support.feeds import generated, publish, write
from tests.support.open_data import EASTBOURNE_STREET, SHARED_DATA
from tests.support.protocol_files import protocol_document

ON = date(2026, 11, 22)
LOOKUP = SHARED_DATA / "lookups" / "lads_in_scope_csp_pfa_fra.csv"


@cache
def _lookup() -> tuple[dict[str, str], ...]:
    with LOOKUP.open(encoding="utf-8") as handle:
        return tuple(csv.DictReader(handle))


@cache
def _packaged() -> tuple[Protocol, ...]:
    return tuple(parse_protocol(p.read_text(encoding="utf-8"), p.name) for p in packaged_protocols_dir().glob("*.yaml"))


def _envelopes(tmp: Path) -> list[EventEnvelope]:
    found: list[EventEnvelope] = []
    for dataset, generator in all_generators().items():
        path = write(generator, tmp / f"{dataset}.csv", generated(generator, rows=120))
        found += publish(get_feed(dataset), path)[0]
    found += publish(get_feed("police-uk-street"), SHARED_DATA / EASTBOURNE_STREET)[0][:300]
    return found


def _mixed(envelopes: list[EventEnvelope]) -> tuple[Protocol, ...]:
    """A test protocol over every dataset seen, in two versions (the second in force), plus a draft."""
    datasets = sorted({e.dataset for e in envelopes})
    owners = sorted({(e.partner, e.dataset) for e in envelopes})
    by_dataset = {d: sorted({name for e in envelopes if e.dataset == d for name in e.attributes}) for d in datasets}
    categories = sorted({e.category for e in envelopes})
    some = ", ".join(categories[::3])
    owners_yaml = "".join(f"  - {{id: {p}, name: Owner {p}, datasets: [{d}]}}\n" for p, d in owners)
    # One partner named as a data owner of another dataset only: its events of other datasets are not_data_owner.
    owners_yaml += "  - {id: outsider, name: Outsider, datasets: [" + datasets[0] + "]}\n"
    fields = "category, period, location, " + ", ".join(sorted({n for names in by_dataset.values() for n in names[:2]}))

    def clause(cid: str, sets: list[str], precision: str, temporal: str, extra: str = "") -> str:
        return (
            f"  - id: {cid}\n    recipients: [to-{cid}]\n    datasets: [{', '.join(sets)}]\n"
            f"    fields: [{fields}]\n    spatial_precision: {precision}\n    temporal_precision: {temporal}\n"
            f"    output: record_level\n{extra}"
        )

    ids = ("points", "grid", "sectors", "lsoas", "wards", "districts")
    areas = ("{level: district, code: E07000061}", "{level: district, codes: [E07000061, E07000063]}")
    recipients = "".join(
        f"  - {{id: to-{cid}, name: Recipient {cid}, kind: csp, area: {areas[i % 2]}}}\n" for i, cid in enumerate(ids)
    )
    half = datasets[::2]
    rest = datasets[1::2]
    body = (
        "data_owners:\n"
        + owners_yaml
        + "recipients:\n"
        + recipients
        + f"signatories: [{{role: SIRO, organisation: {owners[0][0]}}}]\n"
        "clauses:\n"
        + clause("points", half, "point", "timestamp", f"    categories: [{some}]\n")
        + clause("grid", rest, "grid_100m", "day", "    scope: {of: recipient}\n")
        + clause(
            "sectors",
            datasets,
            "postcode_sector",
            "month",
            f"    scope: {{level: county, codes: [E10000011]}}\n    categories: [{', '.join(categories[::4])}]\n",
        )
        + clause("lsoas", half, "lsoa", "month", f"    categories: [{some}]\n")
        + clause("wards", datasets, "ward", "day", f"    categories: [{', '.join(categories[1::2])}]\n")
        + clause("districts", rest, "district", "month", "    scope: {of: recipient}\n")
    )
    first = protocol_document("memo-mixed", "Memo test protocol", datasets, body)
    second = first.replace("version: 1", "version: 2").replace("spatial_precision: point", "spatial_precision: ward")
    draft = first.replace("id: memo-mixed", "id: memo-draft").replace("status: active", "status: draft")
    return tuple(parse_protocol(text, f"{i}.yaml") for i, text in enumerate((first, second, draft)))


def _varied(envelope: EventEnvelope, rng: random.Random, partners: list[str]) -> WarehouseEvent:
    """The envelope with a random place as geocoding might find it (and now and then another partner)."""
    row = rng.choice(_lookup())
    areas: dict[str, str | None] = {}
    if rng.random() < 0.7:
        areas["ward"] = rng.choice(["E05011241", "E05011242", "E05004413"])
    if rng.random() < 0.6:
        areas["lsoa"] = rng.choice(["E01020943", "E01020944", ""])
    if rng.random() < 0.8:
        areas["district"] = rng.choice([row["lad_code"], "E07000061", "E07000063"])
    regions: dict[str, str | None] = {}
    if rng.random() < 0.8:
        regions = {"csp": row["csp24_code"], "county": rng.choice([row["utla_code"], "E10000011"]), "pfa": None}
    point = rng.random() < 0.6
    x = rng.uniform(550_000, 562_000) if point else (float("nan") if rng.random() < 0.1 else None)
    y = rng.uniform(95_000, 105_000) if point else (float("nan") if x is not None else None)
    postcode = envelope.location.postcode if isinstance(envelope.location, PostcodeLocation) else None
    if rng.random() < 0.15:
        postcode = rng.choice(["BN21 4UG", "BN21", "ZZ", None, ""])
    attributes = dict(envelope.attributes)
    if attributes and rng.random() < 0.2:  # a feed that leaves an attribute out
        del attributes[rng.choice(sorted(attributes))]
    start, end, precision = envelope.occurred.start, envelope.occurred.end, envelope.occurred.precision
    if rng.random() < 0.3:  # the other period precision
        last = calendar.monthrange(start.year, start.month)[1]
        start, end, precision = (
            (start, start, "day") if precision == "month" else (start.replace(day=1), start.replace(day=last), "month")
        )
    return WarehouseEvent(
        event_id=uuid.uuid4(),
        dataset=envelope.dataset,
        partner=rng.choice(partners) if rng.random() < 0.1 else envelope.partner,
        category=envelope.category,
        period_start=start,
        period_end=end,
        period_precision=precision,
        attributes=attributes,
        x=x,
        y=y,
        areas=areas,
        postcode=postcode,
        regions=regions,
    )


@pytest.fixture(scope="module")
def envelopes(tmp_path_factory: pytest.TempPathFactory) -> list[EventEnvelope]:
    return _envelopes(tmp_path_factory.mktemp("feeds"))


@pytest.mark.parametrize("which", ["packaged", "mixed", "both"])
def test_the_memo_decides_every_event_as_the_engine_does(which: str, envelopes: list[EventEnvelope]) -> None:
    protocols = {"packaged": _packaged(), "mixed": _mixed(envelopes), "both": _packaged() + _mixed(envelopes)}
    register = ProtocolRegister(protocols[which])
    memo = WarehouseDecisions(register, ON)
    rng = random.Random(16)
    partners = [*sorted({e.partner for e in envelopes}), "outsider"]
    outcomes: dict[str, int] = {}
    for _ in range(3):  # each envelope several times, with different places: memo hits and misses both
        for envelope in envelopes:
            event = _varied(envelope, rng, partners)
            expected = decide_for_warehouse(event.facts(), register, ON)
            assert memo.decide(event) == expected, (event, expected)
            kind = expected.code if isinstance(expected, Withheld) else "released"
            outcomes[kind] = outcomes.get(kind, 0) + 1
    assert len(memo._plans) < 3 * len(envelopes)  # the memo was used, not refilled per event
    # The comparison covered releases and the reasons to withhold that the register can give.
    assert outcomes.get("released", 0) > 100
    assert outcomes.get("outside_scope", 0) > 10
    if which != "packaged":
        assert "not_data_owner" in outcomes
    if which == "mixed":
        assert "category_not_covered" in outcomes


def _police(envelopes: list[EventEnvelope]) -> WarehouseEvent:
    envelope = next(e for e in envelopes if e.dataset == "police-records")
    return WarehouseEvent(
        event_id=uuid.uuid4(),
        dataset=envelope.dataset,
        partner=envelope.partner,
        category=envelope.category,
        period_start=envelope.occurred.start,
        period_end=envelope.occurred.end,
        period_precision=envelope.occurred.precision,
        attributes=envelope.attributes,
        x=None,
        y=None,
        areas={"ward": "E05011241", "district": "E07000061"},
        postcode=None,
        regions={},
    )


def test_an_event_outside_the_scope_is_not_released_because_one_inside_was(envelopes: list[EventEnvelope]) -> None:
    register = ProtocolRegister(_packaged())
    memo = WarehouseDecisions(register, ON)
    inside = _police(envelopes)
    assert isinstance(memo.decide(inside), Released)
    # Same partner, dataset, category, places and attribute names; only the district differs (Essex's Basildon).
    outside = inside._replace(event_id=uuid.uuid4(), areas={**inside.areas, "district": "E07000066"})
    decision = memo.decide(outside)
    assert isinstance(decision, Withheld) and decision.code == "outside_scope"
    assert decision.event_id == outside.event_id


def test_per_event_values_are_the_events_own(envelopes: list[EventEnvelope]) -> None:
    register = ProtocolRegister(_packaged())
    memo = WarehouseDecisions(register, ON)
    first = _police(envelopes)
    memo.decide(first)
    attributes = {name: (f"changed-{name}" if isinstance(v, str) else v) for name, v in first.attributes.items()}
    second = first._replace(
        event_id=uuid.uuid4(),
        areas={"ward": "E05011242", "district": "E07000061"},
        period_start=date(2026, 10, 3),
        period_end=date(2026, 10, 3),
        period_precision="day",
        attributes=attributes,
    )
    got, expected = memo.decide(second), decide_for_warehouse(second.facts(), register, ON)
    assert isinstance(got, Released) and got == expected
    assert got.event_id == second.event_id and got.period == "2026-10-03"
    assert [p.code for p in got.places if p.precision == "ward"] == ["E05011242"]
    assert all(got.attributes[name] == attributes[name] for name in got.attributes)


def test_the_memo_builds_a_released_decision_from_every_field_the_engine_knows() -> None:
    # `WarehouseDecisions.decide` names each field of `Released` when it copies a template: a field added to
    # `Released` (with a default) would silently take its default there, so adding one must fail here first.
    assert [f.name for f in fields(Released)] == [
        "event_id", "dataset", "recipient", "fields", "category", "period", "temporal_precision", "places",
        "attributes", "output", "disclosure", "linkage_allowed", "retain_until", "chosen", "justifications",
        "fields_dropped", "notes", "field_retention", "released",
    ]  # fmt: skip
