"""The indicator document format: parsing, targets by area and year, located errors, and the packaged examples."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy import indicator_files
from sharing_protocols.catalogue import CATALOGUE
from sharing_protocols.datasets.police_uk_street import CATEGORIES
from warehouse.reference.indicator_registry import (
    IndicatorError,
    Target,
    build_indicator,
    load_directory,
    parse_indicator,
)

DOCUMENT = """\
id: violence-rate
title: Violence per 1,000 residents
definition: Violence and sexual offences per 1,000 residents, 12 months to the reporting month.
owner: east-sussex-csp
dataset: police-uk-street
categories: violent-crime
measure: rate
denominator: {sex: persons, age_band: all ages, per: 1000}
direction: lower_is_better
baseline: {year: "2023/24", value: 30.0, areas: {E22000296: 41.8}}
targets:
  "2024/25": 29.5
  "2025/26": 29
area_targets:
  E22000296: {"2025/26": 40.0}
data_lag_months: 2
"""


def _data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DOCUMENT)
    return data


def _problems(data: object, source: str = "ind.yaml") -> list[tuple[str, str, str]]:
    with pytest.raises(IndicatorError) as caught:
        build_indicator(data, source)
    return [(p.source, p.path, p.message) for p in caught.value.problems]


def test_a_document_parses_with_its_defaults() -> None:
    indicator = parse_indicator(DOCUMENT, "violence-rate.yaml")
    assert indicator.id == "violence-rate"
    assert indicator.categories == ("violent-crime",)  # a single string is a one-item list
    assert indicator.denominator is not None and indicator.denominator.per == 1000
    assert indicator.targets == {"2024/25": 29.5, "2025/26": 29.0}
    assert (indicator.tolerance_pct, indicator.provisional_months, indicator.level) == (5.0, 0, "csp")
    assert indicator.attributes == {}


def test_an_area_override_comes_first_then_the_all_areas_target() -> None:
    indicator = parse_indicator(DOCUMENT, "violence-rate.yaml")
    assert indicator.target_for("E22000296", "2025/26") == Target(40.0, "E22000296")
    assert indicator.target_for("E22000296", "2024/25") == Target(29.5, None)  # no override for that year
    assert indicator.target_for("E22000295", "2025/26") == Target(29.0, None)
    assert indicator.target_for("E22000295", "2026/27") is None
    assert indicator.baseline_for("E22000296") == 41.8
    assert indicator.baseline_for("E22000295") == 30.0
    assert sorted(indicator.target_rows(), key=str) == sorted(
        [(None, "2024/25", 29.5), (None, "2025/26", 29.0), ("E22000296", "2025/26", 40.0)], key=str
    )


def _set(data: dict[str, Any], path: tuple[str, ...], value: object) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    target = changed
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return changed


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "where", "says"),
    [
        (("id",), "Violence Rate", "id", "lower-case letters, digits and hyphens"),
        (("title",), _DELETE, "title", "is required"),
        (("dataset",), "police-uk-streets", "dataset", "is not a dataset of the catalogue"),
        (("measure",), "ratio", "measure", "must be 'count' or 'rate'"),
        (("direction",), "down", "direction", "must be 'lower_is_better' or 'higher_is_better'"),
        (("baseline", "year"), "2023/25", "baseline.year", 'consecutive years (e.g. "2023/24")'),
        (("baseline", "year"), "2023-24", "baseline.year", 'financial year written like "2025/26"'),
        (("baseline", "value"), "30", "baseline.value", "must be a number"),
        (("targets", "2025/26"), True, "targets.2025/26", "must be a number"),
        (("targets", "2025/26"), -1, "targets.2025/26", "greater than or equal to 0"),
        (("targets", "2026"), 28.0, "targets.2026", 'key must be a financial year written like "2025/26"'),
        (("area_targets", "E22"), {"2025/26": 1}, "area_targets.E22", "key must be a GSS area code"),
        (("denominator", "per"), 500, "denominator.per", "must be 1000, 10000 or 100000"),
        (("denominator", "age_band"), "adults", "denominator.age_band", 'age band: "all ages"'),
        (("data_lag_months",), 1.5, "data_lag_months", "must be a valid integer"),
        (("data_lag_months",), -1, "data_lag_months", "greater than or equal to 0"),
        (("tolerance_pct",), 101, "tolerance_pct", "less than or equal to 100"),
        (("level",), "region", "level", "must be 'ward', 'lsoa', 'lad', 'csp', 'county' or 'pfa'"),
        (("colour",), "red", "colour", "is not a field of the indicator format"),
        (("attributes",), {"domestic_abuse": [True]}, "attributes.domestic_abuse", "true/false or a whole number"),
    ],
)
def test_a_schema_problem_names_the_file_and_field(path: tuple[str, ...], value: object, where: str, says: str) -> None:
    problems = _problems(_set(_data(), path, value), "deploy/x/violence-rate.yaml")
    assert [(source, at) for source, at, _ in problems] == [("deploy/x/violence-rate.yaml", where)]
    assert says in problems[0][2]


@pytest.mark.parametrize(
    ("path", "value", "where", "says"),
    [
        (("denominator",), _DELETE, "denominator", "is required for a rate"),
        (("measure",), "count", "denominator", "is given but the measure is a count"),
        (("attributes",), {"hate_crime": True}, "attributes.hate_crime", "is not an attribute of police-uk-street"),
        (("attributes",), {"location_description": "x"}, "attributes.location_description", "free text"),
        (("targets", "2023/24"), 31.0, "targets.2023/24", "is not after the baseline year 2023/24"),
        (("area_targets", "E22000296", "2022/23"), 1.0, "area_targets.E22000296.2022/23", "is not after"),
        (("baseline",), {"year": "2023/24"}, "baseline", "needs a value, or values by area"),
    ],
)
def test_a_consistency_problem_names_the_file_and_field(
    path: tuple[str, ...], value: object, where: str, says: str
) -> None:
    problems = _problems(_set(_data(), path, value))
    assert [(source, at) for source, at, _ in problems] == [("ind.yaml", where)]
    assert says in problems[0][2]


def test_a_pseudonym_is_no_filter() -> None:
    data = _set(_data(), ("dataset",), "police-records")
    problems = _problems(_set(data, ("attributes",), {"victim_pseudonym": "ps1_x"}))
    assert problems == [("ind.yaml", "attributes.victim_pseudonym", problems[0][2])]
    assert "pseudonym" in problems[0][2]


def test_every_problem_of_a_document_is_reported() -> None:
    data = _set(_set(_data(), ("owner",), "East Sussex"), ("data_lag_months",), _DELETE)
    assert {at for _, at, _ in _problems(data)} == {"owner", "data_lag_months"}


def test_yaml_errors_name_the_file_and_line() -> None:
    with pytest.raises(IndicatorError) as caught:
        parse_indicator("id: x\ntitle: [unclosed\n", "broken.yaml")
    assert str(caught.value).startswith("broken.yaml: (document): YAML syntax error at line")
    with pytest.raises(IndicatorError, match="duplicate key"):
        parse_indicator(DOCUMENT + "direction: higher_is_better\n", "twice.yaml")
    with pytest.raises(IndicatorError) as listed:
        parse_indicator("- id: x\n", "list.yaml")
    assert str(listed.value) == "list.yaml: (document): the document must be a YAML mapping of indicator fields"


def test_a_directory_loads_by_file_name_and_reports_every_bad_file(tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text(DOCUMENT)
    (tmp_path / "a.yaml").write_text(DOCUMENT.replace("id: violence-rate", "id: another"))
    (tmp_path / "notes.txt").write_text("not an indicator")
    assert [i.id for i in load_directory(tmp_path)] == ["another", "violence-rate"]

    (tmp_path / "c.yaml").write_text(DOCUMENT)  # the same id again
    (tmp_path / "d.yaml").write_text(DOCUMENT.replace("measure: rate", "measure: ratio"))
    with pytest.raises(IndicatorError) as caught:
        load_directory(tmp_path)
    assert [(p.source, p.path) for p in caught.value.problems] == [
        (str(tmp_path / "c.yaml"), "id"),
        (str(tmp_path / "d.yaml"), "measure"),
    ]
    assert str(tmp_path / "b.yaml") in caught.value.problems[0].message

    with pytest.raises(FileNotFoundError):
        load_directory(tmp_path / "missing")


def test_the_packaged_examples_parse_and_use_what_the_catalogue_has() -> None:
    directory = indicator_files.packaged_indicators_dir()
    indicators = {i.id: i for i in load_directory(directory)}
    assert sorted(indicators) == ["all-crime", "asb-incidents", "domestic-abuse-crimes", "violence-rate"]
    # "All crime" is every police.uk category except anti-social behaviour (14 categories, so 13).
    all_crime = indicators["all-crime"]
    assert all_crime.categories is not None
    assert set(all_crime.categories) == set(CATEGORIES.values()) - {"anti-social-behaviour"}
    assert len(all_crime.categories) == 13
    da = indicators["domestic-abuse-crimes"]
    assert da.attributes == {"record_type": "crime", "domestic_abuse": True}
    assert set(da.attributes) <= set(CATALOGUE[da.dataset].attributes)
    assert da.denominator is not None and (da.denominator.sex, da.denominator.age_band) == ("female", "16-64")
    assert {i.direction for i in indicators.values()} == {"lower_is_better", "higher_is_better"}
    for indicator in indicators.values():
        assert indicator.dataset in CATALOGUE
        assert indicator.target_rows(), f"{indicator.id} has no targets"
    for file in directory.glob("*.yaml"):  # every example says its targets are not official figures
        assert "NOT official figures" in file.read_text(), file


def test_the_configured_directory_is_hub_indicators_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "v.yaml").write_text(DOCUMENT)
    monkeypatch.delenv("HUB_INDICATORS_DIR", raising=False)
    assert indicator_files.configured_indicators_dir() == indicator_files.packaged_indicators_dir()
    monkeypatch.setenv("HUB_INDICATORS_DIR", str(tmp_path))
    assert [i.id for i in indicator_files.configured_indicators()] == ["violence-rate"]
