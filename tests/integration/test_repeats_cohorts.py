"""GET /v1/repeats and GET /v1/cohorts end to end: police records, MARAC case lists (generated, plus a hand-written
list of edge cases) and probation IOM cohorts generated from one synthetic population, published and loaded.

The hub enforces the packaged protocols plus one of this module's own that grants `repeat-analysts` exact figures
(disclosure 1/1) with pseudonym linkage. Every expectation is computed here from `SELECT ... FROM event` with plain
Python loops (each victim's incidents in order, compared with every earlier one), not with the hub's SQL; the
MARAC edge cases are also checked against figures worked out by hand. The packaged protocols' rule (10/5) is
checked for the CSPs they name.
"""

from __future__ import annotations

import csv
import io
import os
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import text

from producers.feeds.marac_cases import COLUMNS as MARAC_COLUMNS
from tests.support.hub import HubEnv, Worker, run_all
from tests.support.open_data import CODEPOINT
from tests.support.protocol_files import protocol_document, with_packaged
from tests.support.reference_data import WARD_LOOKUPS, load_reference

pytestmark = pytest.mark.integration

KEYS = {"HUB_LINKAGE_KEY_PERSON": "p" * 48, "HUB_LINKAGE_KEY_RECORD_IDS": "r" * 48}
EASTBOURNE, HASTINGS = "E07000061", "E07000062"
ANALYSTS, NO_LINK, GUARDED = "repeat-analysts", "no-link-csp", "guarded-analysts"
MINIMUM = 5  # GUARDED's rule: counts of 1-4 suppressed, the rest exact (a subtraction would give a count exactly)
EXACT = "repeats-exact@1"
FROM, TO = "2024-07", "2025-06"
SPAN = ("--start", "2023-07", "--months", "24")  # the generated months: a year to look back on before FROM
EXACT_PROTOCOL = protocol_document(
    "repeats-exact",
    "Exact linked counts for the repeats and cohorts tests",
    ["police-records", "marac-cases", "probation-iom"],
    f"""
data_owners:
  - {{id: sussex-police, name: Sussex Police, datasets: [police-records]}}
  - {{id: east-sussex-marac, name: East Sussex MARAC, datasets: [marac-cases]}}
  - {{id: kss-probation, name: KSS Probation, datasets: [probation-iom]}}
recipients:
  - {{id: {ANALYSTS}, name: Analysts, kind: csp}}
  - {{id: {NO_LINK}, name: No linkage, kind: csp}}
  - {{id: {GUARDED}, name: Guarded analysts, kind: csp}}
signatories: [{{role: SIRO, organisation: sussex-police}}]
clauses:
  - {{id: da, recipients: [{ANALYSTS}], datasets: [police-records],
     fields: [category, period, location, victim_pseudonym, domestic_abuse], spatial_precision: district,
     temporal_precision: day, output: aggregates_only, pseudonym_linkage: true,
     disclosure: {{min_cell_count: 1, round_to: 1}}}}
  - {{id: marac, recipients: [{ANALYSTS}], datasets: [marac-cases],
     fields: [category, period, location, marac_area, victim_pseudonym, perpetrator_pseudonym, information_only],
     spatial_precision: district, temporal_precision: day, output: aggregates_only, pseudonym_linkage: true,
     disclosure: {{min_cell_count: 1, round_to: 1}}}}
  - {{id: cohorts, recipients: [{ANALYSTS}], datasets: [probation-iom],
     fields: [category, period, location, offender_pseudonym, reoffended, predicted_reoffending_rate],
     spatial_precision: district, temporal_precision: month, output: aggregates_only, pseudonym_linkage: true,
     disclosure: {{min_cell_count: 1, round_to: 1}}}}
  - {{id: da-guarded, recipients: [{GUARDED}], datasets: [police-records],
     fields: [category, period, location, victim_pseudonym, domestic_abuse], spatial_precision: district,
     temporal_precision: day, output: aggregates_only, pseudonym_linkage: true,
     disclosure: {{min_cell_count: {MINIMUM}, round_to: 1}}}}
  - {{id: no-link, recipients: [{NO_LINK}], datasets: [police-records],
     fields: [category, period, location, domestic_abuse], spatial_precision: district, temporal_precision: day,
     output: aggregates_only, disclosure: {{min_cell_count: 1, round_to: 1}}}}
""",
)
GENERATED = {  # dataset -> generate options (one seed: one synthetic population)
    "police-records": ("--rows", "2500", "--district", EASTBOURNE, "--district", HASTINGS),
    "marac-cases": ("--rows", "500", "--district", EASTBOURNE, "--district", HASTINGS),
    "probation-iom": ("--rows", "700", "--district", EASTBOURNE, "--district", HASTINGS),
}
# Hand-written MARAC cases at two MARACs no generated case is heard at: (victim, main perpetrator, second
# perpetrator, MARAC, review day, information only).
EDGE_CASES: tuple[tuple[str, str | None, str | None, str, str, bool], ...] = (
    ("V1", "P1", None, "Edge One", "15/01/2024", False),  # first
    ("V1", "P1", None, "Edge One", "15/01/2025", False),  # exactly 12 months later: a repeat
    ("V2", "P2", None, "Edge One", "10/02/2024", False),  # first
    ("V2", "P2", None, "Edge One", "11/02/2025", False),  # 12 months and a day later: not a repeat
    ("V3", "P3", None, "Edge One", "01/03/2024", False),  # first
    ("V3", "P4", None, "Edge One", "01/05/2024", False),  # a new perpetrator: not a repeat
    ("V3", "P3", None, "Edge One", "01/07/2024", False),  # the first perpetrator again: a repeat
    ("V4", "P5", None, "Edge One", "05/03/2024", False),  # first
    ("V4", "P5", None, "Edge Two", "05/06/2024", False),  # another MARAC: not a repeat
    ("V4", "P5", None, "Edge Two", "05/08/2024", False),  # again at that MARAC: a repeat
    ("V5", "P6", None, "Edge One", "10/03/2024", True),  # information only: not a case
    ("V5", "P6", None, "Edge One", "10/05/2024", False),  # after an information-only referral: not a repeat
    ("V5", "P6", None, "Edge One", "10/06/2024", True),  # information only: not a case, never a repeat
    ("V6", None, None, "Edge One", "12/03/2024", False),  # no perpetrator: a case that cannot be linked
    ("V6", None, None, "Edge One", "12/04/2024", False),  # again: never a repeat
    ("V7", "P7", "P8", "Edge One", "20/03/2024", False),  # first (two perpetrators, P7 the main one)
    ("V7", "P7", None, "Edge One", "20/04/2024", False),  # same main perpetrator: a repeat
    ("V8", "P9", None, "Edge One", "25/03/2024", False),  # two cases on one day:
    ("V8", "P9", None, "Edge One", "25/03/2024", False),  # exactly one of them is a repeat
    ("V9", "P10", "P11", "Edge One", "01/09/2024", False),  # first
    ("V9", "P11", None, "Edge One", "01/10/2024", False),  # the second perpetrator now the main one: not a repeat
)
# Worked out by hand from EDGE_CASES: (MARAC, 12 months to) -> (cases, repeats, unlinked, information only, rate).
EDGE_EXPECTED = {
    ("edge-one", "2024-12"): (15, 3, 2, 2, 20.0),
    ("edge-one", "2025-02"): (15, 4, 2, 2, 26.67),
    ("edge-two", "2024-12"): (2, 1, 0, 0, 50.0),
}


@pytest.fixture(scope="module")
def protocol_paths(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return with_packaged(tmp_path_factory, {"repeats-exact.yaml": EXACT_PROTOCOL})


def _person(code: str | None) -> dict[str, str]:
    if code is None:
        return {"Surname": "", "Forename": "", "DOB": ""}
    return {"Surname": "Edgecase", "Forename": f"Test{code}", "DOB": f"{int(code[1:]):02d}/01/1980"}


def _edge_file(path: Path, postcode: str) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*MARAC_COLUMNS, "Victim Postcode"])
        writer.writeheader()
        for number, (victim, main, second, marac, day, information) in enumerate(EDGE_CASES, 1):
            review = date(int(day[6:]), int(day[3:5]), int(day[:2]))
            row = {
                "Case ID": f"EDGE-{number:04d}",
                "MARAC Area": marac,
                "Referral Date": f"{review - timedelta(days=7):%d/%m/%Y}",
                "Review Date": day,
                "Referring Agency": "Police",
                "Victim Postcode": postcode,
                "Risk Level": "High",
                "Information Only": "Y" if information else "N",
                "Repeat": "N",
            }
            for prefix, person in (("Victim", victim), ("Perpetrator", main), ("Second Perpetrator", second)):
                row |= {f"{prefix} {k}": v for k, v in _person(person).items()}
            writer.writerow(row)


@pytest.fixture(scope="module")
def loaded(hub_env: HubEnv, shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Lookups and postcodes loaded before the worker starts (it reads them at start); the feeds generated,
    published and loaded."""
    load_reference(hub_env.database_url, lookups=WARD_LOOKUPS, postcodes=CODEPOINT, data=shared_data)
    tmp = tmp_path_factory.mktemp("feeds")
    env = {**os.environ, **hub_env.env, **KEYS}
    cli = [sys.executable, "-m", "deploy.cli"]
    paths = {dataset: tmp / f"{dataset}.csv" for dataset in GENERATED}
    run_all(
        [
            [*cli, "generate", dataset, str(paths[dataset]), "--seed", "11", *SPAN, *options]
            for dataset, options in GENERATED.items()
        ],
        env,
    )
    with paths["marac-cases"].open(encoding="utf-8", newline="") as handle:
        postcode = next(r["Victim Postcode"] for r in csv.DictReader(handle) if r["Victim Postcode"])
    _edge_file(tmp / "edge.csv", postcode)
    worker = Worker(hub_env, tmp / "worker.log")
    try:
        run_all(
            [[*cli, "publish", dataset, str(path)] for dataset, path in paths.items()]
            + [[*cli, "publish", "marac-cases", str(tmp / "edge.csv")]],
            env,
        )
        worker.wait_until_loaded()
        yield
    finally:
        worker.stop()


@dataclass(frozen=True)
class Ev:
    """One loaded event as the test reads it."""

    event_id: str
    day: date
    end: date
    month: date
    category: str
    district: str | None
    csp: str | None
    attributes: dict[str, Any]


def _events(hub_env: HubEnv, dataset: str) -> list[Ev]:
    """The dataset's events released under this module's exact clauses."""
    with hub_env.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT event_id, period_start, period_end, period_month, category, district_code, csp_code, "
                "attributes, protocols FROM event WHERE dataset = :d"
            ),
            {"d": dataset},
        ).all()
    return [
        Ev(str(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], dict(r[7]))
        for r in rows
        if any(ref.startswith(f"{EXACT}#") for ref in r[8])
    ]


def _year_before(day: date) -> date:
    """The same day 12 months earlier (29 February -> 28 February), as PostgreSQL's date - interval '12 months'."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return date(day.year - 1, 2, 28)


def _repeats(events: list[Ev], key: Any) -> set[str]:
    """Ids of the events that follow another with the same key (not None) within the 12 months before, in order
    of day then event id; each event is compared with every earlier one."""
    by_key: defaultdict[Any, list[Ev]] = defaultdict(list)
    for event in events:
        if key(event) is not None:
            by_key[key(event)].append(event)
    found: set[str] = set()
    for history in by_key.values():
        ordered = sorted(history, key=lambda e: (e.day, e.event_id))
        for k, event in enumerate(ordered):
            if any(earlier.day >= _year_before(event.day) for earlier in ordered[:k]):
                found.add(event.event_id)
    return found


def _pct(numerator: int | Fraction, denominator: int) -> float | None:
    if denominator == 0:
        return None
    value = Fraction(numerator) * 100 / denominator
    quantized = (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return float(quantized)


def _month(label: str) -> date:
    return date(int(label[:4]), int(label[5:7]), 1)


def _add_months(month: date, months: int) -> date:
    year, index = divmod(month.year * 12 + month.month - 1 + months, 12)
    return date(year, index + 1, 1)


def _months(first: str, last: str) -> list[date]:
    months, month = [], _month(first)
    while month <= _month(last):
        months.append(month)
        month = _add_months(month, 1)
    return months


def _get(client: TestClient, path: str, **params: Any) -> dict[str, Any]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(scope="module")
def analysts(loaded: None, hub_env: HubEnv) -> TestClient:
    return hub_env.api_client(ANALYSTS, "analyst")


class DomesticAbuseRepeats:
    """The exact analysts' domestic abuse repeats by area (district or CSP) and month, and what they should be."""

    def __init__(self, analysts: TestClient, hub_env: HubEnv, level: str, column: str) -> None:
        self.level = level
        incidents = [e for e in _events(hub_env, "police-records") if e.attributes.get("domestic_abuse") is True]
        repeat = _repeats(incidents, lambda e: e.attributes.get("victim_pseudonym"))
        months = set(_months(FROM, TO))
        expected: defaultdict[tuple[str | None, str], Counter[str]] = defaultdict(Counter)
        for event in incidents:
            if event.month in months:
                cell = expected[(getattr(event, column), f"{event.month:%Y-%m}")]
                cell["incidents"] += 1
                cell["repeats"] += event.event_id in repeat
                cell["without"] += event.attributes.get("victim_pseudonym") is None
        self.expected = expected
        self.body = _get(analysts, "/v1/repeats", measure="domestic_abuse", level=level, **{"from": FROM, "to": TO})
        self.found = {
            (r["area_code"], r["month"]): (
                r["incidents"],
                r["repeat_incidents"],
                r["repeat_percent"],
                r["without_victim_pseudonym"],
            )
            for r in self.body["rows"] + self.body["unlocated"]
        }
        self.total = sum((c for c in expected.values()), Counter())


@pytest.fixture(scope="module", params=[("lad", "district"), ("csp", "csp")], ids=["lad", "csp"])
def da_repeats(analysts: TestClient, hub_env: HubEnv, request: pytest.FixtureRequest) -> DomesticAbuseRepeats:
    level, column = request.param
    return DomesticAbuseRepeats(analysts, hub_env, level, column)


def test_domestic_abuse_repeats_cite_the_exact_clause(da_repeats: DomesticAbuseRepeats) -> None:
    assert da_repeats.body["protocols"] == [f"{EXACT}#da"]


def test_domestic_abuse_repeats_are_exact_for_the_analysts(da_repeats: DomesticAbuseRepeats) -> None:
    disclosure = da_repeats.body["disclosure"]
    assert disclosure["min_cell_count"] == 1 and disclosure["suppressed"] == 0


def test_domestic_abuse_repeats_by_area_and_month(da_repeats: DomesticAbuseRepeats) -> None:
    assert da_repeats.found == {
        key: (c["incidents"], c["repeats"], _pct(c["repeats"], c["incidents"]), c["without"])
        for key, c in da_repeats.expected.items()
    }


def test_domestic_abuse_repeats_unlocated_have_no_area(da_repeats: DomesticAbuseRepeats) -> None:
    assert all(r["area_code"] is None for r in da_repeats.body["unlocated"])


def test_domestic_abuse_repeats_total_the_incidents(da_repeats: DomesticAbuseRepeats) -> None:
    assert da_repeats.body["totals"]["incidents"] == da_repeats.total["incidents"]


def test_domestic_abuse_repeats_total_the_repeat_incidents(da_repeats: DomesticAbuseRepeats) -> None:
    totals, total = da_repeats.body["totals"], da_repeats.total
    assert totals["repeat_incidents"] == total["repeats"] >= 20  # there are repeats to find


def test_domestic_abuse_repeats_total_the_repeat_percent(da_repeats: DomesticAbuseRepeats) -> None:
    totals, total = da_repeats.body["totals"], da_repeats.total
    assert totals["repeat_percent"] == _pct(total["repeats"], total["incidents"])


def test_domestic_abuse_repeats_cover_the_home_areas(da_repeats: DomesticAbuseRepeats) -> None:
    home = {EASTBOURNE, HASTINGS} if da_repeats.level == "lad" else {"E22000295", "E22000296"}
    assert {code for code, _ in da_repeats.found} >= home


@pytest.fixture(scope="module")
def filtered(analysts: TestClient) -> dict[str, dict[str, Any]]:
    """Repeats everywhere and in Eastbourne only, and cohorts in Eastbourne's CSP by district."""
    span = {"from": FROM, "to": TO}
    return {
        "everywhere": _get(analysts, "/v1/repeats", measure="domestic_abuse", **span),
        "eastbourne": _get(analysts, "/v1/repeats", measure="domestic_abuse", area=EASTBOURNE, **span),
        "by_csp": _get(analysts, "/v1/cohorts", level="lad", area="E22000295", area_level="csp", **span),
    }


def test_an_area_filter_keeps_the_history_of_other_areas(filtered: dict[str, dict[str, Any]]) -> None:
    """Eastbourne's repeats are the same with or without the filter: earlier incidents elsewhere still count."""
    eastbourne, everywhere = filtered["eastbourne"], filtered["everywhere"]
    assert eastbourne["rows"] == [r for r in everywhere["rows"] if r["area_code"] == EASTBOURNE]


def test_an_area_filter_keeps_the_unlocated_incidents(filtered: dict[str, dict[str, Any]]) -> None:
    eastbourne, everywhere = filtered["eastbourne"], filtered["everywhere"]
    assert eastbourne["rows"] and eastbourne["unlocated"] == everywhere["unlocated"]


def test_a_csp_filter_on_cohorts_keeps_its_districts(filtered: dict[str, dict[str, Any]]) -> None:
    assert {r["area_code"] for r in filtered["by_csp"]["rows"]} == {EASTBOURNE}


def _marac_expected(events: list[Ev], group: Any) -> dict[tuple[Any, str], tuple[Any, ...]]:
    """NI 32 per group and rolling 12 months to each month FROM..TO, computed case by case."""

    def case_key(e: Ev) -> tuple[str, str, str] | None:
        victim, perpetrator = e.attributes.get("victim_pseudonym"), e.attributes.get("perpetrator_pseudonym")
        if e.category == "information-only" or victim is None or perpetrator is None:
            return None
        return (victim, perpetrator, e.attributes["marac_area"])

    repeat = _repeats(events, case_key)
    expected: dict[tuple[Any, str], tuple[Any, ...]] = {}
    for last in _months(FROM, TO):
        first = _add_months(last, -11)
        window: defaultdict[Any, Counter[str]] = defaultdict(Counter)
        for event in events:
            if first <= event.month <= last:
                cell = window[group(event)]
                if event.category == "information-only":
                    cell["information"] += 1
                else:
                    cell["cases"] += 1
                    cell["repeats"] += event.event_id in repeat
                    cell["unlinked"] += case_key(event) is None
        for name, c in window.items():
            expected[(name, f"{last:%Y-%m}")] = (
                c["cases"],
                c["repeats"],
                _pct(c["repeats"], c["cases"]),
                c["unlinked"],
                c["information"],
            )
    return expected


def _marac_found(body: dict[str, Any], group: Any) -> dict[tuple[Any, str], tuple[Any, ...]]:
    return {
        (group(r), r["period"].removeprefix("12 months to ")): (
            r["cases"],
            r["repeat_cases"],
            r["repeat_rate"],
            r["unlinked_cases"],
            r["information_only"],
        )
        for r in body["rows"] + body["unlocated"]
    }


@pytest.fixture(scope="module")
def marac_events(loaded: None, hub_env: HubEnv) -> list[Ev]:
    return _events(hub_env, "marac-cases")


@pytest.fixture(scope="module")
def by_marac(analysts: TestClient) -> dict[str, Any]:
    return _get(analysts, "/v1/repeats", measure="marac", **{"from": FROM, "to": TO})


def test_marac_repeats_are_by_marac_area_and_exact(by_marac: dict[str, Any]) -> None:
    assert by_marac["by"] == ["marac_area"] and by_marac["disclosure"]["suppressed"] == 0


def test_marac_repeat_rate_per_rolling_12_months_by_marac(by_marac: dict[str, Any], marac_events: list[Ev]) -> None:
    expected = _marac_expected(marac_events, lambda e: e.attributes["marac_area"])
    assert _marac_found(by_marac, lambda r: r["marac_area"]) == expected


def test_marac_repeats_cover_the_generated_and_edge_case_maracs(by_marac: dict[str, Any]) -> None:
    found = _marac_found(by_marac, lambda r: r["marac_area"])
    assert {m for m, _ in found} >= {"eastbourne", "hastings", "edge-one", "edge-two"}


def test_marac_repeats_find_repeat_cases_in_eastbourne(by_marac: dict[str, Any]) -> None:
    found = _marac_found(by_marac, lambda r: r["marac_area"])
    assert sum(v[1] for (m, _), v in found.items() if m == "eastbourne") > 0


def test_marac_edge_cases_match_the_figures_worked_out_by_hand(analysts: TestClient) -> None:
    body = _get(analysts, "/v1/repeats", measure="marac", **{"from": "2024-12", "to": "2025-02"})
    found = _marac_found(body, lambda r: r["marac_area"])
    for (marac, month), (cases, repeats, unlinked, information, rate) in EDGE_EXPECTED.items():
        assert found[(marac, month)] == (cases, repeats, rate, unlinked, information), (marac, month)


def test_marac_repeat_rate_by_district(analysts: TestClient, marac_events: list[Ev]) -> None:
    by_district = _get(analysts, "/v1/repeats", measure="marac", by="area", **{"from": FROM, "to": TO})
    assert _marac_found(by_district, lambda r: r["area_code"]) == _marac_expected(marac_events, lambda e: e.district)


def test_marac_repeat_rate_by_marac_and_district(analysts: TestClient, marac_events: list[Ev]) -> None:
    both = _get(analysts, "/v1/repeats", measure="marac", by=["marac_area", "area"], **{"from": FROM, "to": TO})
    assert _marac_found(both, lambda r: (r["marac_area"], r["area_code"])) == _marac_expected(
        marac_events, lambda e: (e.attributes["marac_area"], e.district)
    )


@pytest.fixture(scope="module")
def cohorts(analysts: TestClient, hub_env: HubEnv) -> tuple[dict[str, Any], dict[tuple[Any, ...], tuple[Any, ...]]]:
    """The exact analysts' reoffending cohorts by CSP, and what they should be (computed offender by offender)."""
    members: defaultdict[tuple[Any, ...], dict[str, list[Ev]]] = defaultdict(lambda: defaultdict(list))
    for event in _events(hub_env, "probation-iom"):
        offender = event.attributes.get("offender_pseudonym") or event.event_id
        members[(event.csp, event.category, event.day, event.end)][offender].append(event)
    expected = {}
    for (csp, cohort, first, last), people in members.items():
        size = len(people)
        reoffenders = sum(any(e.attributes["reoffended"] for e in records) for records in people.values())
        predicted = sum(
            (
                sum((Fraction(Decimal(str(e.attributes["predicted_reoffending_rate"]))) for e in records), Fraction())
                / len(records)
                for records in people.values()
            ),
            Fraction(),
        )
        rate, mean = _pct(reoffenders, size), _pct(predicted, size)
        difference = float(Decimal(str(rate)) - Decimal(str(mean))) if rate is not None and mean is not None else None
        expected[(csp, cohort, first.isoformat(), last.isoformat())] = (size, reoffenders, rate, mean, difference)
    return _get(analysts, "/v1/cohorts", **{"from": "2023-07", "to": TO}), expected


Cohorts = tuple[dict[str, Any], dict[tuple[Any, ...], tuple[Any, ...]]]


def test_reoffending_cohorts_cite_the_exact_clause_and_suppress_nothing(cohorts: Cohorts) -> None:
    body, _ = cohorts
    assert body["protocols"] == [f"{EXACT}#cohorts"] and body["disclosure"]["suppressed"] == 0


def test_reoffending_cohorts_by_csp(cohorts: Cohorts) -> None:
    body, expected = cohorts
    found = {
        (r["area_code"], r["cohort"], r["period_start"], r["period_end"]): (
            r["cohort_size"],
            r["reoffenders"],
            r["rate"],
            r["predicted_rate"],
            r["difference"],
        )
        for r in body["rows"] + body["unlinked"]
    }
    assert found == expected


def test_reoffending_cohorts_list_the_unlinked_offenders_apart(cohorts: Cohorts) -> None:
    body, expected = cohorts
    unlinked = sum(v[0] for k, v in expected.items() if k[0] is None)
    assert unlinked > 0 and sum(r["cohort_size"] for r in body["unlinked"]) == unlinked


def test_reoffending_cohorts_are_the_three_iom_cohorts(cohorts: Cohorts) -> None:
    assert {r["cohort"] for r in cohorts[0]["rows"]} == {"iom-fixed", "iom-flex", "general"}


def test_reoffending_cohort_periods_are_labelled_by_their_first_and_last_months(cohorts: Cohorts) -> None:
    assert all(r["period"] == f"{r['period_start'][:7]}/{r['period_end'][:7]}" for r in cohorts[0]["rows"])


@pytest.fixture(scope="module")
def unlinkable(loaded: None, hub_env: HubEnv) -> Response:
    client = hub_env.api_client(NO_LINK, "analyst")
    response: Response = client.get("/v1/repeats", params={"measure": "domestic_abuse", "from": FROM, "to": TO})
    return response


def test_linking_needs_a_clause_granting_the_pseudonyms(unlinkable: Response) -> None:
    assert unlinkable.status_code == 403


def test_a_refused_link_names_the_pseudonym_and_the_missing_grant(unlinkable: Response) -> None:
    assert "victim_pseudonym" in unlinkable.json()["detail"] and "pseudonym_linkage" in unlinkable.json()["detail"]


def test_partners_are_refused_cohorts(loaded: None, hub_env: HubEnv) -> None:
    assert (
        hub_env.api_client(ANALYSTS, "partner").get("/v1/cohorts", params={"from": FROM, "to": TO}).status_code == 403
    )


def test_the_public_is_refused_repeats(loaded: None, hub_env: HubEnv) -> None:
    assert (
        hub_env.client().get("/v1/repeats", params={"measure": "marac", "from": FROM, "to": TO}).status_code == 403
    )  # the public: no protocol grants it


def _counts(body: dict[str, Any], names: tuple[str, ...]) -> list[int | None]:
    rows = body["rows"] + body.get("unlocated", []) + body.get("unlinked", [])
    found = [row[name] for row in rows for name in names]
    return found + [v for k, v in body.get("totals", {}).items() if not k.endswith("percent")]


PACKAGED_QUERIES = [
    ("/v1/repeats", {"measure": "domestic_abuse"}, ("incidents", "repeat_incidents", "without_victim_pseudonym")),
    ("/v1/repeats", {"measure": "marac"}, ("cases", "repeat_cases", "unlinked_cases", "information_only")),
    ("/v1/repeats", {"measure": "marac", "by": "area"}, ("cases", "repeat_cases", "unlinked_cases")),
    ("/v1/cohorts", {}, ("cohort_size", "reoffenders")),
]
QUERY_IDS = ["da", "marac", "marac-by-area", "cohorts"]


@pytest.fixture(scope="module")
def eastbourne(loaded: None, hub_env: HubEnv) -> TestClient:
    return hub_env.api_client("eastbourne-csp", "analyst")


@pytest.fixture(scope="module")
def packaged(eastbourne: TestClient) -> list[dict[str, Any]]:
    """Eastbourne CSP's answers (under the packaged protocols) to the PACKAGED_QUERIES, in order."""
    return [_get(eastbourne, path, **params, **{"from": FROM, "to": TO}) for path, params, _ in PACKAGED_QUERIES]


@pytest.mark.parametrize("query", range(len(PACKAGED_QUERIES)), ids=QUERY_IDS)
def test_the_packaged_protocols_rule_is_10_rounded_to_5(packaged: list[dict[str, Any]], query: int) -> None:
    body = packaged[query]
    assert (body["disclosure"]["min_cell_count"], body["disclosure"]["round_to"]) == (10, 5)


@pytest.mark.parametrize("query", range(len(PACKAGED_QUERIES)), ids=QUERY_IDS)
def test_the_packaged_protocols_cite_no_test_clause(packaged: list[dict[str, Any]], query: int) -> None:
    body = packaged[query]
    assert body["protocols"] and not any(p.startswith(EXACT) for p in body["protocols"])


@pytest.mark.parametrize("query", range(len(PACKAGED_QUERIES)), ids=QUERY_IDS)
def test_the_packaged_protocols_release_no_count_below_10(packaged: list[dict[str, Any]], query: int) -> None:
    path, params, names = PACKAGED_QUERIES[query]
    counts = _counts(packaged[query], names)
    assert counts and all(c is None or c == 0 or (c >= 10 and c % 5 == 0) for c in counts), (path, params)


@pytest.mark.parametrize("query", range(len(PACKAGED_QUERIES)), ids=QUERY_IDS)
def test_the_packaged_protocols_give_a_rate_only_where_both_counts_are_released(
    packaged: list[dict[str, Any]], query: int
) -> None:
    for row in packaged[query]["rows"]:
        pairs = [("repeat_percent", "repeat_incidents", "incidents"), ("repeat_rate", "repeat_cases", "cases")]
        for rate, numerator, denominator in [*pairs, ("rate", "reoffenders", "cohort_size")]:
            if rate in row and (row[numerator] is None or row[denominator] is None):
                assert row[rate] is None
        if "predicted_rate" in row and row["cohort_size"] is None:
            assert row["predicted_rate"] is None


def test_the_packaged_protocols_suppress_the_small_cells(packaged: list[dict[str, Any]]) -> None:
    assert sum(body["disclosure"]["suppressed"] for body in packaged) > 0  # the small cells were there


@pytest.fixture(scope="module")
def packaged_csv(eastbourne: TestClient) -> Response:
    response: Response = eastbourne.get("/v1/cohorts", params={"from": FROM, "to": TO, "format": "csv"})
    return response


def test_packaged_cohorts_as_csv_name_their_disclosure_rule(packaged_csv: Response) -> None:
    assert (
        packaged_csv.status_code == 200
        and "cohort-reoffending-district-counts" in packaged_csv.headers["X-Disclosure-Rule"]
    )


def test_packaged_cohorts_as_csv_release_no_count_below_10(packaged_csv: Response) -> None:
    shown = [
        int(r[c])
        for r in csv.DictReader(io.StringIO(packaged_csv.text))
        for c in ("cohort_size", "reoffenders")
        if r[c]
    ]
    assert shown and all(c == 0 or c >= 10 for c in shown)


# --- the release record and the differencing guard -----------------------------------------------------------------

DA_MEASURE = "police-records:domestic-abuse-incidents"


def test_a_span_of_repeats_less_its_first_month_recovers_no_suppressed_count(loaded: None, hub_env: HubEnv) -> None:
    incidents = [e for e in _events(hub_env, "police-records") if e.attributes.get("domestic_abuse") is True]
    repeat = _repeats(incidents, lambda e: e.attributes.get("victim_pseudonym"))
    # Eastbourne's repeats per month with those placed in no district (the answer's totals count both)
    per_month = Counter(
        f"{e.month:%Y-%m}" for e in incidents if e.event_id in repeat and e.district in (EASTBOURNE, None)
    )
    months = [f"{m:%Y-%m}" for m in _months(FROM, TO)]
    first, second, hidden = next(
        (month, months[i + 1], per_month[month])
        for i, month in enumerate(months[:-1])
        if 1 <= per_month[month] < MINIMUM and sum(per_month[m] for m in months[i + 1 :]) >= MINIMUM
    )
    client = hub_env.api_client(GUARDED, "analyst")
    ask = {"measure": "domestic_abuse", "level": "lad", "area": EASTBOURNE, "to": TO}
    span = _get(client, "/v1/repeats", **ask, **{"from": first})
    less = _get(client, "/v1/repeats", **ask, **{"from": second})
    shown = [span["totals"]["repeat_incidents"], less["totals"]["repeat_incidents"]]
    assert shown[0] == sum(per_month[m] for m in months[months.index(first) :])  # the span is shown, exactly
    assert None in shown or shown[0] - shown[1] != hidden
    assert shown[1] is None  # without the guard it would be shown (at least MINIMUM) and give `hidden` away
    assert any(DA_MEASURE in reason and "exactly" in reason for reason in less["disclosure"]["withheld"])
    # The IG view lists the repeats' figures, the span's total of repeat incidents among them.
    releases = _get(hub_env.api_client(GUARDED, "ig_lead"), "/v1/ig/releases")
    figures = [f for f in releases["figures"] if f["dataset"] == DA_MEASURE]
    assert len(figures) >= len(span["rows"]) + len(span["unlocated"])
    totals = [
        f["value"]
        for f in figures
        if f["categories"] == ["repeat"] and (f["first_month"][:7], f["last_month"][:7]) == (first, TO)
    ]
    assert totals == [shown[0]]
    assert {(s["dataset"], s["level"]) for s in releases["summary"]} == {(DA_MEASURE, "lad")}
