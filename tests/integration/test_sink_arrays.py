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
from warehouse.sink import DecisionRow, EventClaim, EventRow, WarehouseSink, copy_text, new_record_key

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


def _labelled(event_id: uuid.UUID, partner: str, label: str, offset: int) -> tuple[EventRow, DecisionRow, EventClaim]:
    """An event of `partner` whose period label is `label`, its decision and its claim."""
    topic = f"{partner}-topic"
    row = EventRow(
        event_id, "police-uk-street", partner, 1, A_MONTH, date(1998, 3, 31), "month", A_MONTH, "burglary", "{}",
        None, None, "no_location", None, None, f"hash-{label}", topic, 0, offset, new_record_key(), period_label=label,
    )  # fmt: skip
    decision = DecisionRow(
        event_id, f"hash-{label}", "police-uk-street", partner, A_MONTH, "released", None, None, (), (), (), None
    )
    return row, decision, EventClaim(event_id, "police-uk-street", partner, topic, 0, offset)


def test_the_text_made_ahead_is_what_goes_in_unless_the_sink_refuses_a_row(hub_env: HubEnv) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    sink = WarehouseSink(hub_env.worker_url)
    try:
        # Sent as it is: the text made from rows labelled "text" goes in, not the rows labelled "rows" beside it.
        row, decision, claim = _labelled(first, "text-owner", "rows", 1)
        ahead = _labelled(first, "text-owner", "text", 1)
        assert sink.write([row], [], [decision], claims=[claim], text=copy_text([ahead[0]], [ahead[1]])) == []
        # Another partner's event id in the batch is refused: what is left is formatted again from its rows.
        taken = _labelled(first, "text-other", "rows", 1)
        mine = _labelled(second, "text-other", "rows", 2)
        text = copy_text([_labelled(first, "text-other", "text", 1)[0], _labelled(second, "text-other", "text", 2)[0]],
                         [taken[1], mine[1]])  # fmt: skip
        made = sink.write([taken[0], mine[0]], [], [taken[1], mine[1]], claims=[taken[2], mine[2]], text=text)
        assert [letter.reason.split(":")[0] for letter in made] == ["event_id_conflict"]
    finally:
        sink.close()
    labels = hub_env.query(
        "SELECT event_id, partner, period_label FROM event WHERE event_id IN (:a, :b)", a=first, b=second
    )
    assert sorted(labels) == sorted([(first, "text-owner", "text"), (second, "text-other", "rows")])


def test_a_connection_in_another_client_encoding_gets_its_rows_formatted_for_it(hub_env: HubEnv) -> None:
    """`copy_text` writes UTF-8: a sink whose connection speaks Latin-1 formats the rows itself, so "café" stays
    "café" (sent as made, its UTF-8 bytes would be read as Latin-1 and stored as "cafÃ©")."""
    event_id = uuid.uuid4()
    row, decision, claim = _labelled(event_id, "latin-1-partner", "café", 1)
    separator = "&" if "?" in hub_env.worker_url else "?"
    sink = WarehouseSink(f"{hub_env.worker_url}{separator}client_encoding=LATIN1")
    try:
        assert sink.write([row], [], [decision], claims=[claim], text=copy_text([row], [decision])) == []
    finally:
        sink.close()
    assert hub_env.query("SELECT period_label FROM event WHERE event_id = :e", e=event_id) == [("café",)]
