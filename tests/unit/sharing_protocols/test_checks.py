"""Document checks for IG leads: broken documents are rejected with source, field path and problem; the packaged
examples pass; differences between versions and descriptions read correctly; files load into a register."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.protocol_files import load_register, packaged_protocols_dir
from sharing_protocols.catalogue import CATALOGUE
from sharing_protocols.checks import check_document, describe
from sharing_protocols.disclosure import protect_value, rule_for
from sharing_protocols.protocol import ProtocolError, parse_protocol
from sharing_protocols.protocol_diff import diff_protocols

TODAY = date(2026, 11, 22)

BASE = """\
id: test-police-to-csps
version: 1
title: Test police data to two CSPs
status: active
valid_from: 2026-04-01
review_due: 2027-09-30
expires: 2029-03-31
data_owners:
  - {id: sussex-police, name: Sussex Police, datasets: [police-uk-street]}
  - {id: essex-police, name: Essex Police, datasets: [police-uk-street]}
recipients:
  - {id: east-sussex-csp, name: East Sussex CSP, kind: csp}
  - {id: essex-csp, name: Essex CSP, kind: csp}
purposes: [Strategic assessment]
legal_gateways:
  - {ref: cda-1998-s115}
datasets: [police-uk-street]
retention: {months: 24}
signatories:
  - {role: Senior Information Risk Owner, organisation: sussex-police}
  - {role: Senior Information Risk Owner, organisation: essex-police}
clauses:
  - id: ward-records
    recipients: [east-sussex-csp]
    datasets: [police-uk-street]
    fields: [category, period, location, last_outcome_category]
    spatial_precision: ward
    temporal_precision: month
    output: record_level
  - id: district-counts
    recipients: [essex-csp]
    datasets: [police-uk-street]
    fields: [category, period, location]
    spatial_precision: district
    temporal_precision: month
    output: aggregates_only
    disclosure: {min_cell_count: 8, round_to: 5}
"""

Doc = dict[str, Any]


def _edit(change: Callable[[Doc], object]) -> str:
    """BASE with one change applied, as YAML text."""
    doc: Doc = yaml.safe_load(BASE)
    change(doc)
    return yaml.safe_dump(doc, sort_keys=False)


def _set(path: str, value: object) -> Callable[[Doc], object]:
    """A change setting the value at a dotted path with [i] indexes, e.g. clauses[1].fields."""

    def change(doc: Doc) -> None:
        parts = path.replace("[", ".").replace("]", "").split(".")
        target: Any = doc
        for part in parts[:-1]:
            target = target[int(part)] if part.isdigit() else target[part]
        last = parts[-1]
        if value is _DELETE:
            del target[last]
        elif last.isdigit():
            target[int(last)] = value
        else:
            target[last] = value

    return change


_DELETE = object()

# (name, document text, expected path, expected words in the message)
BROKEN: list[tuple[str, str, str, str]] = [
    ("yaml-syntax", "id: x\nclauses: [\n  - id: a\n", "", "YAML syntax error at line 3"),
    ("not-a-mapping", "- id: x\n", "", "must be a YAML mapping"),
    ("unknown-key", _edit(_set("owner", "x")), "owner", "is not a field of the protocol format"),
    ("bad-status", _edit(_set("status", "live")), "status", "'draft', 'active', 'suspended' or 'expired'"),
    ("bad-date", _edit(_set("valid_from", "2026-02-30")), "valid_from", "valid date"),
    ("bad-id", _edit(_set("id", "Test Protocol")), "id", "lower-case letters, digits and hyphens"),
    ("no-version", _edit(_set("version", _DELETE)), "version", "is required"),
    ("gateways-empty", _edit(_set("legal_gateways", [])), "legal_gateways", "at least one legal gateway"),
    ("gateways-missing", _edit(_set("legal_gateways", _DELETE)), "legal_gateways", "at least one legal gateway"),
    (
        "gateway-unknown",
        _edit(_set("legal_gateways[0].ref", "s115")),
        "legal_gateways[0].ref",
        "is not a known legal gateway",
    ),
    ("version-not-a-number", _edit(_set("version", "2")), "version", "valid integer"),
    ("clause-list-not-list", _edit(_set("clauses[0].categories", 5)), "clauses[0].categories", "must be a list"),
    ("gateway-other-uncited", _edit(_set("legal_gateways[0]", {"ref": "other"})), "legal_gateways[0]", "citation"),
    (
        "bad-precision",
        _edit(_set("clauses[0].spatial_precision", "outward_postcode")),
        "clauses[0].spatial_precision",
        "'point', 'grid_100m', 'lsoa', 'postcode_sector', 'ward' or 'district'",
    ),
    ("bad-output", _edit(_set("clauses[1].output", "counts")), "clauses[1].output", "'aggregates_only'"),
    (
        "personal-name",
        _edit(_set("signatories[0].name", "A Person")),
        "signatories[0].name",
        "is not a field of the protocol format",
    ),
    (
        "field-name-form",
        _edit(_set("clauses[0].fields[3]", "Last outcome")),
        "clauses[0].fields[3]",
        "lower-case letters, digits and underscores",
    ),
    (
        "unknown-dataset",
        _edit(lambda d: d["datasets"].append("no-such-dataset")),
        "datasets[1]",
        "is not a dataset in the hub's catalogue",
    ),
    (
        "unknown-field",
        _edit(lambda d: d["clauses"][0]["fields"].append("crime_type")),
        "clauses[0].fields[4]",
        "is not a field of dataset police-uk-street",
    ),
    (
        "overlapping-clauses",
        _edit(_set("clauses[1].recipients", ["essex-csp", "east-sussex-csp"])),
        "clauses[1]",
        "overlaps clauses[0] (ward-records) for recipient east-sussex-csp and dataset police-uk-street",
    ),
    (
        "overlapping-categories",
        _edit(
            lambda d: (
                d["clauses"][1].update(recipients=["east-sussex-csp"], categories=["burglary", "robbery"]),
                d["clauses"][0].update(categories=["robbery"]),
            )
        ),
        "clauses[1]",
        "overlaps clauses[0]",
    ),
    (
        "review-passed",
        _edit(_set("review_due", date(2026, 10, 31))),
        "review_due",
        "review was due on 2026-10-31, before today (2026-11-22)",
    ),
    (
        "expires-before-start",
        _edit(lambda d: d.update(valid_from=date(2027, 1, 1), expires=date(2026, 12, 31))),
        "expires",
        "is before valid_from",
    ),
    (
        "review-before-start",
        _edit(lambda d: d.update(valid_from=date(2027, 1, 1), review_due=date(2026, 12, 31))),
        "review_due",
        "is before valid_from",
    ),
    (
        "expired-but-active",
        _edit(lambda d: d.update(valid_from=date(2024, 1, 1), expires=date(2026, 1, 31))),
        "status",
        "is active but the protocol expired on 2026-01-31",
    ),
    (
        "undeclared-recipient",
        _edit(lambda d: d["clauses"][0]["recipients"].append("brighton-csp")),
        "clauses[0].recipients[1]",
        "is not declared in recipients",
    ),
    (
        "undeclared-dataset",
        _edit(_set("clauses[1].datasets", ["police-uk-street", "istv-ae"])),
        "clauses[1].datasets[1]",
        "is not declared in datasets",
    ),
    ("duplicate-clause-id", _edit(_set("clauses[1].id", "ward-records")), "clauses[1].id", "repeats a clause id"),
    (
        "duplicate-field",
        _edit(lambda d: d["clauses"][0]["fields"].append("category")),
        "clauses[0].fields[4]",
        "repeats a field",
    ),
    (
        "pseudonym-without-linkage",
        _edit(
            lambda d: (
                d.update(datasets=["marac-cases"]),
                [owner.update(datasets=["marac-cases"]) for owner in d["data_owners"]],
                d["clauses"][1].update(datasets=["marac-cases"], fields=["category", "victim_pseudonym"]),
                d["clauses"][1].pop("spatial_precision"),
                d["clauses"][1].pop("temporal_precision"),
                d["clauses"].pop(0),
            )
        ),
        "clauses[0].fields[1]",
        "needs pseudonym_linkage: true",
    ),
    (
        "location-without-precision",
        _edit(_set("clauses[0].spatial_precision", _DELETE)),
        "clauses[0].spatial_precision",
        "is required because fields lists location",
    ),
    (
        "precision-without-period",
        _edit(_set("clauses[1].fields", ["category", "location"])),
        "clauses[1].temporal_precision",
        "is given but fields does not list period",
    ),
    (
        "signatory-not-a-party",
        _edit(lambda d: d["signatories"].append({"role": "Chief Constable", "organisation": "kent-police"})),
        "signatories[2].organisation",
        "is not a declared data owner",
    ),
    (
        "owner-not-signed",
        _edit(lambda d: d["signatories"].pop()),
        "data_owners[1]",
        "has no signatory",
    ),
    (
        "round-to-zero",
        _edit(_set("clauses[1].disclosure", {"min_cell_count": 1, "round_to": 10})),
        "clauses[1].disclosure",
        "could round to 0",
    ),
]


def test_the_base_document_passes() -> None:
    assert check_document(BASE, "base.yaml", CATALOGUE, TODAY) == []


@pytest.mark.parametrize(("text", "path", "words"), [case[1:] for case in BROKEN], ids=[case[0] for case in BROKEN])
def test_a_broken_document_is_rejected_naming_source_path_and_problem(text: str, path: str, words: str) -> None:
    problems = check_document(text, "broken.yaml", CATALOGUE, TODAY)
    assert problems, "the document passed"
    assert all(problem.source == "broken.yaml" for problem in problems)
    assert [(p.path, words in p.message) for p in problems] == [(path, True)], [str(p) for p in problems]
    assert str(problems[0]).startswith(f"broken.yaml: {path or '(document)'}: ")


def test_disjoint_category_filters_do_not_overlap() -> None:
    text = _edit(
        lambda d: (
            d["clauses"][1].update(recipients=["east-sussex-csp"], categories=["burglary"]),
            d["clauses"][0].update(categories=["robbery", "drugs"]),
        )
    )
    assert check_document(text, "split.yaml", CATALOGUE, TODAY) == []


def test_problems_never_echo_the_values_written() -> None:
    secret = "DO-NOT-ECHO-4471"
    text = _edit(
        lambda d: d.update(status=secret, valid_from=secret, version=secret, retention={"weeks": secret})
    ).replace("id: ward-records", f"id: {secret}")
    problems = check_document(text, "echo.yaml", CATALOGUE, TODAY)
    assert {p.path for p in problems} == {"status", "valid_from", "version", "retention.weeks", "clauses[0].id"}
    assert all(secret not in str(p) for p in problems)


def test_every_problem_is_reported_at_once() -> None:
    def change(doc: Doc) -> None:
        doc["review_due"] = date(2026, 10, 1)
        doc["clauses"][0]["fields"].append("crime_type")
        doc["clauses"][0]["recipients"].append("brighton-csp")

    problems = check_document(_edit(change), "many.yaml", CATALOGUE, TODAY)
    assert [p.path for p in problems] == ["clauses[0].recipients[1]", "clauses[0].fields[4]", "review_due"]


def test_a_suspended_protocol_still_gets_its_review_date_checked_but_an_expired_one_does_not() -> None:
    overdue = _edit(lambda d: d.update(review_due=date(2026, 5, 1), status="suspended"))
    assert [p.path for p in check_document(overdue, "s.yaml", CATALOGUE, TODAY)] == ["review_due"]
    expired = _edit(lambda d: d.update(review_due=date(2026, 5, 1), status="expired"))
    assert check_document(expired, "e.yaml", CATALOGUE, TODAY) == []


# The packaged examples.

PACKAGED = sorted(packaged_protocols_dir().glob("*.yaml"))


def test_the_packaged_examples_include_the_four_of_the_brief() -> None:
    # Each partner feed adds its own protocols beside these.
    assert {
        "istv-ae-to-csp.yaml",
        "marac-repeat-counts.yaml",
        "police-to-csp-analysts.yaml",
        "police-uk-public.yaml",
    } <= {path.name for path in PACKAGED}


@pytest.mark.parametrize("path", PACKAGED, ids=[path.name for path in PACKAGED])
def test_every_packaged_example_passes_the_checks(path: Path) -> None:
    # Every dataset the packaged protocols name is in the catalogue, with the fields they release.
    assert check_document(path.read_text(encoding="utf-8"), path.name, CATALOGUE, TODAY) == []


def test_the_packaged_examples_say_what_the_brief_asks() -> None:
    register = load_register([packaged_protocols_dir()])
    public = register.get("police-uk-public").clauses[0]
    assert (public.recipients, public.output, public.temporal_precision) == (("public",), "aggregates_only", "month")
    assert public.spatial_precision in ("grid_100m", "lsoa")
    analysts = register.get("police-to-csp-analysts").clauses[0]
    assert analysts.output == "record_level" and analysts.spatial_precision == "ward"
    assert "location_description" not in analysts.fields
    istv = register.get("istv-ae-to-csp").clauses[0]
    assert istv.output == "aggregates_only" and istv.temporal_precision == "month"
    istv_rule = rule_for([("istv", istv.disclosure)])
    assert istv.disclosure is not None and [protect_value(n, istv_rule) for n in (1, 7, 8)] == [None, None, 10]
    marac = register.get("marac-repeat-counts").clauses[0]
    assert marac.pseudonym_linkage and marac.output == "aggregates_only"
    for protocol in register:
        assert protocol.review_due > date(2027, 6, 1) and protocol.expires and protocol.expires > date(2027, 6, 1)


# Loading files.


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_register_reads_files_and_directories(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", BASE)
    _write(tmp_path, "ignored.txt", "not yaml")
    other = _write(tmp_path.parent / f"{tmp_path.name}-b.yaml", "", BASE.replace("version: 1", "version: 2"))
    register = load_register([tmp_path, other])
    assert [p.label for p in register] == ["test-police-to-csps@1", "test-police-to-csps@2"]


def test_load_register_names_each_failing_file(tmp_path: Path) -> None:
    _write(tmp_path, "a-good.yaml", BASE)
    bad = _write(tmp_path, "b-bad.yaml", BASE.replace("status: active", "status: live"))
    unknown = _write(
        tmp_path,
        "c-unknown.yaml",
        BASE.replace("id: test-police", "id: other").replace(
            "datasets: [police-uk-street]\nretention", "datasets: [police-uk-street, fire]\nretention"
        ),
    )
    with pytest.raises(ProtocolError) as info:
        load_register([tmp_path], catalogue=CATALOGUE)
    assert [(p.source, p.path) for p in info.value.problems] == [(str(bad), "status"), (str(unknown), "datasets[1]")]
    assert len(load_register([tmp_path / "a-good.yaml", unknown])) == 2  # without a catalogue, datasets are not checked


def test_load_register_refuses_the_same_version_in_two_files(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", BASE)
    copy = _write(tmp_path, "b.yaml", BASE)
    with pytest.raises(ProtocolError, match="test-police-to-csps@1 is also in") as info:
        load_register([tmp_path])
    assert info.value.problems[0].source == str(copy)


def test_load_register_reports_a_missing_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_register([tmp_path / "nowhere.yaml"])


def test_packaged_protocols_dir_is_inside_the_contract_package() -> None:
    assert packaged_protocols_dir().parts[-2:] == ("sharing_protocols", "protocols")


# Differences and descriptions.


def test_diff_protocols_lists_each_change() -> None:
    def change(doc: Doc) -> None:
        doc.update(version=2, status="suspended", review_due=date(2027, 12, 31))
        doc["recipients"].append({"id": "eastbourne-csp", "name": "Eastbourne CSP", "kind": "csp"})
        doc["legal_gateways"].append({"ref": "uk-gdpr-art6-1e"})
        ward = doc["clauses"][0]
        ward.update(spatial_precision="lsoa", recipients=["east-sussex-csp", "eastbourne-csp"])
        ward["fields"].remove("last_outcome_category")
        doc["clauses"][1] = {**doc["clauses"][1], "id": "district-violence-counts", "categories": ["violent-crime"]}

    old = parse_protocol(BASE, "v1.yaml")
    new = parse_protocol(_edit(change), "v2.yaml")
    assert diff_protocols(old, new) == [
        "version: 1 -> 2",
        "status: active -> suspended",
        "review_due: 2027-09-30 -> 2027-12-31",
        "recipient added: eastbourne-csp (csp)",
        "legal gateway added: UK GDPR Article 6(1)(e) (task in the public interest or in the exercise of official "
        "authority)",
        "clause added: district-violence-counts (aggregates only; location at district; time at month; counts: 1-7 "
        "suppressed, rounded to 5)",
        "clause removed: district-counts",
        "clause ward-records: recipients added: eastbourne-csp",
        "clause ward-records: fields removed: last_outcome_category",
        "clause ward-records: spatial_precision: ward -> lsoa",
    ]
    assert diff_protocols(old, old) == []


def test_describe_gives_an_account_an_ig_lead_can_read() -> None:
    text = describe(parse_protocol(BASE, "base.yaml"))
    lines = text.splitlines()
    assert lines[0] == "test-police-to-csps@1: Test police data to two CSPs"
    assert "  valid from 2026-04-01; review due 2027-09-30; expires 2029-03-31" in lines
    assert "  DPIA: none given" in lines
    assert (
        "    - cda-1998-s115: Crime and Disorder Act 1998, s115 (power to disclose information to relevant "
        "authorities)" in lines
    )
    assert "    - ward-records: east-sussex-csp may receive police-uk-street" in lines
    assert "      record level; location at ward; time at month" in lines
    assert "      aggregates only; location at district; time at month; counts: 1-7 suppressed, rounded to 5" in lines
