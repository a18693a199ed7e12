"""The fast envelope decoder accepts only what pydantic accepts, with the same values; anything else is pydantic's.

Payloads: every feed generator's envelopes as `hub publish` writes them, and each mutated many ways (fields
missing, extra, retyped, out of range, malformed dates, ids and codes, duplicate keys, broken JSON).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from pydantic import ValidationError

from producers.feed_registry import get_feed
from producers.generators.registry import all_generators
from sharing_protocols.envelope import EventEnvelope
from stream_processors.fast_envelope import parse_envelope
from tests.support.feeds import generated, publish, write
from tests.support.open_data import EASTBOURNE_STREET, SHARED_DATA

ODD_VALUES: list[object] = [
    None,
    True,
    False,
    0,
    1,
    -1,
    1.5,
    1e300,
    "",
    "x",
    "A",
    "a b",
    "a\n",
    "2019-01-01",
    "2019-02-30",
    "20190101",
    "2019-01-01T00:00:00",
    [],
    {},
    [1],
    {"a": 1},
    700001,
    -180.5,
    12345678901234567890123,
    "E0500000\u0661",  # an Arabic-Indic digit one
    "e05000001",
    "6F1C1D2E-7C55-4F8E-9A7E-3B2F61C0A9D1",
    "6f1c1d2e7c554f8e9a7e3b2f61c0a9d1",
    "ab" * 40,
    "BN21 4UG",
    "B",
]


@pytest.fixture(scope="module")
def payloads(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    tmp: Path = tmp_path_factory.mktemp("feeds")
    found: list[EventEnvelope] = []
    for dataset, generator in all_generators().items():
        found += publish(get_feed(dataset), write(generator, tmp / f"{dataset}.csv", generated(generator, rows=60)))[0]
    found += publish(get_feed("police-uk-street"), SHARED_DATA / EASTBOURNE_STREET)[0][:100]
    return [e.to_bytes() for e in found]


def _paths(node: object, at: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [at] if at else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*at, key))
    return found


def _mutants(payload: bytes, rng: random.Random) -> list[bytes]:
    data = json.loads(payload)
    out: list[bytes] = [payload[:-1], payload + b"x", payload.replace(b'"', b"'", 1), b"\xff" + payload]
    for path in _paths(data):
        for change in ("drop", "odd", "odd", "odd", "extra"):
            copy = json.loads(payload)
            parent = copy
            for key in path[:-1]:
                parent = parent[key]
            if change == "drop":
                del parent[path[-1]]
            elif change == "odd":
                parent[path[-1]] = rng.choice(ODD_VALUES)
            elif isinstance(parent[path[-1]], dict):
                parent[path[-1]]["unexpected"] = 1
            else:
                parent["unexpected"] = 1
            out.append(json.dumps(copy).encode())
    # A duplicate key: the last value counts, in both.
    out.append(payload[:-1] + b',"category":"other-category"}')
    out.append(payload[:-1] + b',"category":"Not A Slug"}')
    return out


def _pydantic(payload: bytes) -> EventEnvelope | None:
    try:
        return EventEnvelope.from_bytes(payload)
    except ValidationError:
        return None


def test_the_fast_path_decodes_published_envelopes_as_pydantic_does(payloads: list[bytes]) -> None:
    for payload in payloads:
        fast = parse_envelope(payload)
        assert fast is not None  # what `hub publish` writes takes the fast path
        assert fast == EventEnvelope.from_bytes(payload)
        assert fast.model_dump() == EventEnvelope.from_bytes(payload).model_dump()


def test_the_fast_path_never_accepts_what_pydantic_refuses_nor_changes_a_value(payloads: list[bytes]) -> None:
    rng = random.Random(16)
    refused = taken = 0
    for payload in payloads:
        for mutant in _mutants(payload, rng):
            fast, slow = parse_envelope(mutant), _pydantic(mutant)
            if slow is None:
                assert fast is None, mutant
                refused += 1
            elif fast is not None:
                assert fast == slow and fast.model_dump() == slow.model_dump(), mutant
                taken += 1
    assert refused > 1000 and taken > 100
