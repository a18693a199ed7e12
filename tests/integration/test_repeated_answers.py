"""A repeated answer (`api.released_figures.Recorder`, migration 0028): an answer whose figures are exactly those of
an answer the organisation was given before (the digest of every field, in order) is released after one probe of
the digest, without the guard's look-up, and recorded as one row, "the figures of access M again", which the IG
record (`release_record`, `warehouse.queries.releases.releases`) shows as those figures at the repeat's time.

Attacks on the shortcut: the same request after the data changed, a reordering or a subset of an answer, another
organisation's answer, and a request the guard withheld, asked again. Each is a threshold rule of 5 / 1 (exact above
the threshold), at ward level (its own base: no lookups needed), against the real database; the history is written
by `write_access` as the API writes it, and what the guard reads is seen in the statements it sends.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from api.caller import Caller
from api.released_figures import Recorder
from api.ward_parents import WardParents
from sharing_protocols.disclosure import Rule
from sharing_protocols.release_record import ReleasedFigure
from tests.support.hub import HubEnv
from warehouse.governance.access_log import write_access
from warehouse.queries.aggregates import Level
from warehouse.queries.releases import releases
from warehouse.schema.db import session_scope

pytestmark = pytest.mark.integration

RULE = Rule(min_cell_count=5, round_to=1, clauses=("repeat@1#exact-above-5",))
WARDS = ("E05000001", "E05000002", "E05000003")
JAN, FEB, DEC = date(2024, 1, 1), date(2024, 2, 1), date(2024, 12, 1)


def _figure(value: int | None, first: date = JAN, last: date = DEC, ward: str = WARDS[0]) -> ReleasedFigure:
    label = f"{first:%Y-%m}" if first == last else f"{first:%Y-%m} to {last:%Y-%m}"
    return ReleasedFigure(
        "police-records", "ward", frozenset({ward}), None, first, last, label, value, 5, 1, RULE.clauses
    )


# An answer: three wards' cells of January and their total.
ANSWER = [_figure(11, JAN, JAN, ward) for ward in WARDS] + [
    ReleasedFigure("police-records", "ward", frozenset(WARDS), None, JAN, JAN, "2024-01", 33, 5, 1, RULE.clauses)
]


@dataclass(frozen=True)
class Asked:
    """What one answer released, the guard's reasons, and the statements its release sent (before the record)."""

    values: list[int | None]
    reasons: list[str]
    statements: list[str]

    @property
    def probed_only(self) -> bool:
        """Released after the digest's probe alone: one statement, of `released_digest`."""
        return len(self.statements) == 1 and "released_digest" in self.statements[0]

    @property
    def looked_up(self) -> bool:
        """The guard read the organisation's history (`known_figure`)."""
        return any("known_figure" in statement for statement in self.statements)


@contextmanager
def _statements(hub_env: HubEnv) -> Iterator[list[str]]:
    sent: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    event.listen(hub_env.engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(hub_env.engine, "before_cursor_execute", note)


def _ask(hub_env: HubEnv, org: str, figures: Sequence[ReleasedFigure]) -> Asked:
    """Release `figures` to `org` as the API does (the guard, then the access and release record)."""
    recorder = Recorder(Session(hub_env.engine), WardParents(hub_env.engine, hub_env.geography), Caller(org, "analyst"))
    try:
        with _statements(hub_env) as sent:
            values = recorder.apart(Level.ward, RULE, figures)
    finally:
        recorder.session.close()
    write_access(
        hub_env.engine, org, "analyst", "/v1/counts", {}, list(RULE.clauses), len(figures), 200, recorder.record()
    )
    return Asked(values, list(recorder.reasons), sent)


def _record(hub_env: HubEnv, org: str) -> dict[str, Any]:
    """What the record holds for `org`: figure rows written, repeats (access, of access) and figures known."""
    figures = hub_env.query("SELECT count(*) FROM released_figure WHERE org = :o", o=org)[0][0]
    again = hub_env.query("SELECT access_id, of_access_id FROM released_again WHERE org = :o ORDER BY 1", o=org)
    known = hub_env.query("SELECT count(*) FROM known_figure WHERE org = :o", o=org)[0][0]
    accesses = [r[0] for r in hub_env.query("SELECT id FROM access_log WHERE org = :o ORDER BY id", o=org)]
    return {"figures": figures, "again": [tuple(r) for r in again], "known": known, "accesses": accesses}


def _shown(hub_env: HubEnv, org: str) -> list[list[ReleasedFigure]]:
    """The IG record's figures for `org` (`releases`), answer by answer."""
    with session_scope(hub_env.engine) as session:
        found = releases(session, org, date.today(), date.today())
    answers: dict[object, list[ReleasedFigure]] = {}
    for release in found:
        answers.setdefault(release.at, []).append(release.figure)
    return list(answers.values())


def test_an_answer_given_again_is_released_after_one_probe_and_recorded_as_the_first_again(hub_env: HubEnv) -> None:
    org = "repeat-same"
    first = _ask(hub_env, org, ANSWER)
    assert first.values == [f.value for f in ANSWER] and first.looked_up
    second = _ask(hub_env, org, ANSWER)
    assert second.values == [f.value for f in ANSWER] and not second.reasons
    assert second.probed_only, second.statements
    record = _record(hub_env, org)
    assert record["figures"] == len(ANSWER) == record["known"]  # written once; nothing more for the guard
    assert record["again"] == [(record["accesses"][1], record["accesses"][0])]
    assert _shown(hub_env, org) == [ANSWER, ANSWER]  # the IG record: the same figures at each answer's time
    assert _ask(hub_env, org, ANSWER).probed_only  # a third time: again the first's figures, not the second's
    accesses = _record(hub_env, org)["accesses"]
    assert _record(hub_env, org)["again"] == [(accesses[1], accesses[0]), (accesses[2], accesses[0])]


def test_the_same_request_after_a_value_changed_takes_the_whole_guard(hub_env: HubEnv) -> None:
    """A year of 30, then February to December suppressed (1 to 4); the data change and February to December is 26:
    were the changed answer taken for the one given before, January (4) would be given away."""
    org = "repeat-changed"
    year, rest = _figure(30, JAN, DEC), _figure(None, FEB, DEC)
    assert _ask(hub_env, org, [year]).values == [30]
    assert _ask(hub_env, org, [rest]).values == [None]
    assert _ask(hub_env, org, [rest]).probed_only  # asked again unchanged: a repeat
    changed = _ask(hub_env, org, [_figure(26, FEB, DEC)])
    assert changed.looked_up and not changed.probed_only
    assert changed.values == [None] and changed.reasons


def test_a_reordering_or_a_subset_of_an_answer_is_not_a_repeat_and_is_recorded_as_shown(hub_env: HubEnv) -> None:
    org = "repeat-reordered"
    _ask(hub_env, org, ANSWER)
    reordered = _ask(hub_env, org, ANSWER[::-1])
    subset = _ask(hub_env, org, ANSWER[:2])
    for asked, figures in ((reordered, ANSWER[::-1]), (subset, ANSWER[:2])):
        assert not asked.probed_only and asked.looked_up  # the look-up: every figure shown alike, nothing new
        assert asked.values == [f.value for f in figures] and not asked.reasons
    record = _record(hub_env, org)
    assert record["again"] == [] and record["figures"] == 2 * len(ANSWER) + 2
    assert _shown(hub_env, org) == [ANSWER, ANSWER[::-1], ANSWER[:2]]
    assert _ask(hub_env, org, ANSWER[::-1]).probed_only  # the reordering, asked again, is a repeat of itself


def test_another_organisations_answer_does_not_help(hub_env: HubEnv) -> None:
    """One organisation was given February to December (26); another was given the year (30): the same February to
    December is not a repeat for it, and its guard withholds it (January would be 4)."""
    given, asking = "repeat-given", "repeat-asking"
    rest = _figure(26, FEB, DEC)
    assert _ask(hub_env, given, [rest]).values == [26]
    assert _ask(hub_env, asking, [_figure(30, JAN, DEC)]).values == [30]
    asked = _ask(hub_env, asking, [rest])
    assert asked.looked_up and asked.values == [None] and asked.reasons
    assert _record(hub_env, asking)["again"] == []


def test_a_withheld_request_asked_again_is_withheld_again_and_recorded_as_the_first_again(hub_env: HubEnv) -> None:
    org = "repeat-withheld"
    assert _ask(hub_env, org, [_figure(30, JAN, DEC)]).values == [30]
    rest = [_figure(26, FEB, DEC), _figure(26, FEB, DEC, WARDS[1])]  # the second ward's is not a part of the year
    first = _ask(hub_env, org, rest)
    assert first.values == [None, 26] and first.reasons
    again = _ask(hub_env, org, rest)  # what was withheld is recorded as withheld: not the answer asked
    assert again.looked_up and again.values == [None, 26] and again.reasons == first.reasons
    accesses = _record(hub_env, org)["accesses"]
    assert _record(hub_env, org)["again"] == [(accesses[2], accesses[1])]  # what it released is the first's
    assert _shown(hub_env, org)[1:] == [[_figure(None, FEB, DEC), rest[1]]] * 2
