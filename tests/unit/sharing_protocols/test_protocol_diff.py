"""A protocol's changes between versions as structured changes (what the IG console lists), and its clauses in
plain words. Expectations are written from the packaged police-to-csp-analysts document."""

from __future__ import annotations

from typing import Any

import yaml

from deploy.protocol_files import packaged_protocols_dir
from sharing_protocols.protocol import Protocol, build_protocol
from sharing_protocols.protocol_diff import Change, diff_protocols, protocol_changes
from sharing_protocols.protocol_words import clause_terms

SOURCE = (packaged_protocols_dir() / "police-to-csp-analysts.yaml").read_text(encoding="utf-8")


def _version(edit: Any = None) -> Protocol:
    doc = yaml.safe_load(SOURCE)
    if edit is not None:
        edit(doc)
    return build_protocol(doc, "test")


def _v2(doc: dict[str, Any]) -> None:
    doc["version"] = 2
    doc["dpia_reference"] = "HUB-DPIA-2026-009"
    ward = doc["clauses"][0]
    ward["fields"] = [f for f in ward["fields"] if f != "last_outcome_category"] + ["crime_type_group"]
    ward["spatial_precision"] = "district"
    doc["clauses"].append(
        {
            "id": "public-district-counts",
            "recipients": ["essex-csp"],
            "datasets": ["police-uk-street"],
            "fields": ["category", "period"],
            "temporal_precision": "month",
            "output": "aggregates_only",
            "categories": ["burglary"],
        }
    )
    doc["clauses"][0]["recipients"] = ["east-sussex-csp", "eastbourne-csp"]


def test_changes_name_their_kind_part_and_values() -> None:
    changes = protocol_changes(_version(), _version(_v2))
    assert Change("changed", "version", None, "1", "2") in changes
    assert Change("changed", "dpia_reference", None, "HUB-DPIA-2026-002", "HUB-DPIA-2026-009") in changes
    assert Change("added", "fields", "clause csp-ward-records", after="crime_type_group") in changes
    assert Change("removed", "fields", "clause csp-ward-records", before="last_outcome_category") in changes
    assert Change("removed", "recipients", "clause csp-ward-records", before="essex-csp") in changes
    assert Change("changed", "spatial_precision", "clause csp-ward-records", "ward", "district") in changes
    [added] = [c for c in changes if c.what == "clause"]
    assert (added.kind, added.after, added.clause) == ("added", "public-district-counts", "public-district-counts")
    assert added.detail is not None and added.detail.startswith("aggregates only; time at month")
    assert {c.clause for c in changes if c.within} == {"csp-ward-records"}
    assert len(changes) == 7


def test_the_lines_are_the_changes_in_words_and_reversing_swaps_added_and_removed() -> None:
    old, new = _version(), _version(_v2)
    lines = diff_protocols(old, new)
    assert "clause csp-ward-records: fields removed: last_outcome_category" in lines
    assert "clause csp-ward-records: spatial_precision: ward -> district" in lines
    back = protocol_changes(new, old)
    assert Change("removed", "clause", before="public-district-counts") in back
    assert Change("added", "fields", "clause csp-ward-records", after="last_outcome_category") in back
    assert protocol_changes(old, old) == []


def test_clause_terms_say_who_gets_what_how_finely_and_for_how_long() -> None:
    protocol = _version(_v2)
    ward, counts = (clause_terms(protocol, c) for c in protocol.clauses)
    assert ward.recipients == (
        "East Sussex Community Safety Partnership (county) (east-sussex-csp)",
        "Eastbourne Community Safety Partnership (eastbourne-csp)",
    )
    assert ward.spatial_precision == "no finer than district"
    assert ward.temporal_precision == "no finer than month"
    assert ward.output == "record by record"
    assert ward.scope == "only each recipient's own area"
    assert ward.retention == "kept for 24 months after receipt"
    assert ward.categories == "every category"
    assert ward.linkage == "records may not be linked"
    assert counts.spatial_precision == "no location released"
    assert counts.categories == "burglary"
    assert counts.scope == "anywhere (no geographic limit)"
    assert counts.output == "as counts only (aggregates)"
    assert counts.disclosure.endswith("(the default for aggregates-only clauses over personal data)")
