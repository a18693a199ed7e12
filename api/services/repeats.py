"""Domestic abuse repeat victimisation by area and month, or the MARAC repeat rate (NI 32) per rolling 12 months
by MARAC and/or area; linked by pseudonym, within the caller's protocols, disclosure-controlled."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from api.aggregate_query import check_area_level, month_range
from api.answer import Answer, Table
from api.caller import Caller
from api.errors import BadParameter
from api.linked_query import linked_grant, percent, protect_parts
from api.released_figures import UNLOCATED, Linked, LinkedRow, Recorder, row_figures
from api.schemas.common import disclosure_out
from api.schemas.repeats import (
    DomesticAbuseOut,
    DomesticAbuseResponse,
    DomesticAbuseTotals,
    MaracGrouping,
    MaracOut,
    MaracResponse,
    Measure,
)
from api.ward_parents import WardParents
from sharing_protocols.decision import ProtocolRegister
from sharing_protocols.disclosure import Rule, protect
from sharing_protocols.periods import add_months, months_between
from warehouse.queries.aggregates import Level
from warehouse.queries.areas import area_names
from warehouse.queries.repeats import (
    MARAC_CASES,
    POLICE_RECORDS,
    RepeatQuery,
    domestic_abuse_repeats,
    marac_repeats,
)

DA_FIELDS = ("victim_pseudonym", "domestic_abuse")
MARAC_FIELDS = ("category", "marac_area", "victim_pseudonym", "perpetrator_pseudonym")
DA_DEFINITION = (
    "Police records flagged domestic abuse, in the month they began. An incident is a repeat when the same victim "
    "(pseudonym) had another domestic abuse incident in the 12 months before it (inclusive; of two on one day, "
    "the one with the larger event id is the repeat). Incidents without a victim pseudonym are counted and are "
    "never repeats."
)
MARAC_DEFINITION = (
    "NI 32: repeat cases / cases reviewed in the 12 months ending with each month x 100. A case is a victim and "
    "the main perpetrator; it is a repeat when the same victim with the same perpetrator was reviewed at the same "
    "MARAC in the 12 months before (inclusive; of two on one day, the one with the larger event id is the "
    "repeat). Information-only referrals are not cases (counted apart) and make no repeat; a case without a "
    "victim or perpetrator pseudonym is never a repeat."
)
DA_PARTS = ("repeat", "first", "without_victim_pseudonym")
MARAC_PARTS = ("repeat", "first", "unlinked")
# What the release record calls each measure's figures: a part of a row (repeat, first...) is a category of it.
DA_RELEASE = Linked(f"{POLICE_RECORDS}:domestic-abuse-incidents", ("repeat", "without_victim_pseudonym"), True)
MARAC_RELEASE = Linked(f"{MARAC_CASES}:cases", ("repeat", "unlinked"), False)
INFORMATION_ONLY = f"{MARAC_CASES}:information-only-referrals"
ALL_AREAS = frozenset({"(all areas)"})  # a MARAC row not grouped by area counts every area the caller may see


def _areas(code: str | None) -> frozenset[str]:
    return frozenset({code or UNLOCATED})


def domestic_abuse_table(
    session: Session, query: RepeatQuery, refs: list[str], rule: Rule, release: Recorder
) -> DomesticAbuseResponse:
    """Domestic abuse incidents, repeats and % repeat by area and month, protected under `rule` and released
    through `release`."""
    cells = domestic_abuse_repeats(session, query)
    found = protect_parts(
        [
            {
                "repeat": c.repeats,
                "first": c.incidents - c.repeats - c.without_victim,
                "without_victim_pseudonym": c.without_victim,
            }
            for c in cells
        ],
        DA_PARTS,
        rule,
    )
    placed = [LinkedRow(_areas(c.area_code), None, c.month, c.month, f"{c.month:%Y-%m}") for c in cells]
    asked = query.areas if (query.area_level or query.level) == query.level else ()
    parts = release.linked(DA_RELEASE, query.level, rule, placed, found, frozenset({UNLOCATED, *asked}))
    names = area_names(session, query.level, sorted({c.area_code for c in cells if c.area_code}))
    rows: list[DomesticAbuseOut] = []
    unlocated: list[DomesticAbuseOut] = []
    for i, cell in enumerate(cells):
        incidents, repeats = parts.total(i), parts.part(i, "repeat")
        out = DomesticAbuseOut(
            area_code=cell.area_code,
            area_name=names.get(cell.area_code) if cell.area_code else None,
            month=f"{cell.month:%Y-%m}",
            incidents=incidents,
            repeat_incidents=repeats,
            repeat_percent=percent(repeats, incidents),
            without_victim_pseudonym=parts.part(i, "without_victim_pseudonym"),
        )
        (rows if cell.area_code else unlocated).append(out)
    total, repeated = parts.overall(), parts.overall("repeat")
    return DomesticAbuseResponse(
        definition=DA_DEFINITION,
        dataset=POLICE_RECORDS,
        level=query.level,
        months=[f"{m:%Y-%m}" for m in months_between(query.start, query.end)],
        protocols=refs,
        disclosure=release.disclosed(disclosure_out(parts.table, scopes=query.scopes)),
        rows=rows,
        unlocated=unlocated,
        totals=DomesticAbuseTotals(
            incidents=total,
            repeat_incidents=repeated,
            repeat_percent=percent(repeated, total),
            without_victim_pseudonym=parts.overall("without_victim_pseudonym"),
        ),
    )


def marac_table(
    session: Session, query: RepeatQuery, by: Sequence[MaracGrouping], refs: list[str], rule: Rule, release: Recorder
) -> MaracResponse:
    """MARAC cases, repeat cases and the repeat rate per rolling 12 months, protected under `rule` and released
    through `release`."""
    by_area = "area" in by
    cells = marac_repeats(session, query, by_marac="marac_area" in by, by_area=by_area)
    found = protect_parts(
        [{"repeat": c.repeats, "first": c.cases - c.repeats - c.unlinked, "unlinked": c.unlinked} for c in cells],
        MARAC_PARTS,
        rule,
    )
    region = (
        frozenset(f"{(query.area_level or query.level).value}:{code}" for code in query.areas)
        if query.areas
        else ALL_AREAS
    )
    placed = [
        LinkedRow(
            _areas(c.area_code) if by_area else region,
            c.marac_area,
            add_months(c.last_month, -11),
            c.last_month,
            f"12 months to {c.last_month:%Y-%m}",
        )
        for c in cells
    ]
    parts = release.linked(MARAC_RELEASE, query.level, rule, placed, found)
    # Information-only referrals are in no row's total: a table of their own.
    information = protect({(str(i),): c.information_only for i, c in enumerate(cells)}, rule, 1)
    information = release.release(
        query.level, rule, information, row_figures(INFORMATION_ONLY, query.level, placed, information, rule)
    )
    names = area_names(session, query.level, sorted({c.area_code for c in cells if c.area_code}))
    rows: list[MaracOut] = []
    unlocated: list[MaracOut] = []
    for i, cell in enumerate(cells):
        cases, repeats = parts.total(i), parts.part(i, "repeat")
        out = MaracOut(
            marac_area=cell.marac_area,
            area_code=cell.area_code,
            area_name=names.get(cell.area_code) if cell.area_code else None,
            period=f"12 months to {cell.last_month:%Y-%m}",
            cases=cases,
            repeat_cases=repeats,
            repeat_rate=percent(repeats, cases),
            unlinked_cases=parts.part(i, "unlinked"),
            information_only=information.cells[(str(i),)],
        )
        (unlocated if by_area and cell.area_code is None else rows).append(out)
    return MaracResponse(
        definition=MARAC_DEFINITION,
        dataset=MARAC_CASES,
        level=query.level,
        by=list(by),
        periods=[f"12 months to {m:%Y-%m}" for m in months_between(query.start, query.end)],
        protocols=refs,
        disclosure=release.disclosed(
            disclosure_out(parts.table, information.primary + information.secondary, query.scopes)
        ),
        rows=rows,
        unlocated=unlocated,
    )


_DA_COLUMNS = (
    "area_code",
    "area_name",
    "month",
    "incidents",
    "repeat_incidents",
    "repeat_percent",
    "without_victim_pseudonym",
)
_MARAC_COLUMNS = (
    "marac_area",
    "area_code",
    "area_name",
    "period",
    "cases",
    "repeat_cases",
    "repeat_rate",
    "unlinked_cases",
    "information_only",
)


def repeats(
    session: Session,
    wards: WardParents,
    register: ProtocolRegister,
    caller: Caller,
    measure: Measure,
    from_: str,
    to: str,
    level: Level,
    area: Sequence[str] | None,
    area_level: Level | None,
    by: Sequence[MaracGrouping] | None,
) -> Answer[DomesticAbuseResponse | MaracResponse]:
    """Repeat victimisation of domestic abuse or the MARAC repeat rate, linked only under clauses granting the
    caller the fields, pseudonym linkage and the day (NoGrant naming what is missing)."""
    start, end = month_range(from_, to)
    if by and measure != "marac":
        raise BadParameter("by applies to measure=marac only")
    areas = tuple(area or ())
    within = check_area_level(level, area_level, areas)
    dataset, fields = (POLICE_RECORDS, DA_FIELDS) if measure == "domestic_abuse" else (MARAC_CASES, MARAC_FIELDS)
    grant = linked_grant(session, register, caller, dataset, level, fields, days=True)
    query = RepeatQuery(level, start, end, tuple(grant.refs), areas, within, grant.scopes)
    release = Recorder(session, wards, caller)
    body: DomesticAbuseResponse | MaracResponse
    if measure == "domestic_abuse":
        body = domestic_abuse_table(session, query, grant.refs, grant.rule, release)
        columns: Sequence[str] = _DA_COLUMNS
    else:
        grouping: list[MaracGrouping] = list(dict.fromkeys(by or ["marac_area"]))
        body = marac_table(session, query, grouping, grant.refs, grant.rule, release)
        columns = _MARAC_COLUMNS
    table = Table([*body.rows, *body.unlocated], columns, f"repeats-{measure}", body.disclosure.rule)
    return Answer(body, grant.refs, len(body.rows) + len(body.unlocated), table, release.record())
