"""The sink writes text[] columns as array literals of its own making: what a partner names comes back exactly.

Attribute names are the partner's (`fields_present`), so they are written with every character an array literal
or COPY treats specially: none may split, merge, drop or add an element. The same holds for the COPY text the
loader's processing thread makes ahead of the write (`copy_text`), and for text and JSON columns.
"""

from __future__ import annotations

import json
import uuid
from datetime import date

import pytest

from tests.support.hub import HubEnv
from warehouse.sink import DecisionRow, EventRow, WarehouseSink, copy_text, new_record_key

A_MONTH = date(1998, 3, 1)
AWKWARD = (
    'a","b', "x}", "{", "}", "\\", '\\"', "NULL", "null", ",", "a,b", "tab\there", "line\nbreak", "café ☃",
    "", " ", '"', "{}", "\\N", "end",
)  # fmt: skip


ATTRIBUTES = {name: name for name in AWKWARD if name}  # JSON escapes (backslashes) through COPY as they are


@pytest.mark.parametrize("prepared", [False, True], ids=["formatted-by-the-sink", "copy-text-made-ahead"])
def test_awkward_text_arrays_come_back_element_for_element(hub_env: HubEnv, prepared: bool) -> None:
    event_id = uuid.uuid4()
    event = EventRow(
        event_id, "police-uk-street", "arrays-test", 1, A_MONTH, date(1998, 3, 31), "month", A_MONTH, "burglary",
        json.dumps(ATTRIBUTES), None, None, "no_location", None, None, "hash-1", "arrays-test-topic", 0, 1,
        new_record_key(), protocols=AWKWARD, period_label="tab\there\\N\nline",
    )  # fmt: skip
    decisions = [
        DecisionRow(
            event_id, "hash-1", "police-uk-street", "arrays-test", A_MONTH, "released", None, None, AWKWARD,
            ("dropped", *AWKWARD[:3]), (), None, fields_present=AWKWARD,
        ),
        DecisionRow(
            event_id, "hash-2", "police-uk-street", "arrays-test", A_MONTH, "released", None, "a\tb\\N\r\nc", (), (),
            ("ward",), None, fields_present=(),
        ),
    ]  # fmt: skip
    text = copy_text([event], decisions) if prepared else None
    sink = WarehouseSink(hub_env.worker_url)
    try:
        assert sink.write([event], [], decisions, text=text) == []
    finally:
        sink.close()
    stored = hub_env.query("SELECT protocols, attributes, period_label FROM event WHERE event_id = :e", e=event_id)
    assert stored == [(list(AWKWARD), ATTRIBUTES, "tab\there\\N\nline")]
    reasons = hub_env.query("SELECT reason FROM decision WHERE event_id = :e ORDER BY content_hash", e=event_id)
    assert reasons == [(None,), ("a\tb\\N\r\nc",)]
    rows = hub_env.query(
        "SELECT protocols, fields_dropped, spatial_precision, fields_present FROM decision "
        "WHERE event_id = :e ORDER BY content_hash",
        e=event_id,
    )
    assert rows == [
        (list(AWKWARD), ["dropped", *AWKWARD[:3]], [], list(AWKWARD)),
        ([], [], ["ward"], []),
    ]
