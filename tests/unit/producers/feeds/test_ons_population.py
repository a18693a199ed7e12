"""ONS population: the real files' columns are accepted, area types give level and vintage, reference dates
are the estimate's day, and the real district files publish in full."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from producers.feed import SourceContext
from producers.feeds.ons_population import FEED, OnsPopulationRow, source_key
from sharing_protocols.envelope import AreaLocation
from tests.support.feeds import options, publish
from tests.support.open_data import CENSUS_2021_SEX, LAD_MID2020_AGEBANDS, SHARED_DATA

ROW = {
    "area_code": "E01020999",
    "area_name": "Eastbourne 001A",
    "area_type": "LSOA2011",
    "lad_code": "E07000061",
    "year": "2020",
    "sex": "persons",
    "age_band": "0-4",
    "band_type": "5yr",
    "population": "91",
}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"area_code": "Eastbourne"}, "area_code"),
        ({"area_type": "MSOA2011"}, "area_type"),
        ({"year": "20"}, "year"),
        ({"sex": "other"}, "sex"),
        ({"age_band": "young"}, "age_band"),
        ({"population": "-3"}, "population"),
    ],
)
def test_bad_fields_are_named(change: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        OnsPopulationRow.model_validate({**ROW, **change})
    assert info.value.errors()[0]["loc"][0] == field


def test_an_area_code_of_another_level_is_rejected() -> None:
    with pytest.raises(ValidationError, match="not a code of the area_type's level"):
        OnsPopulationRow.model_validate({**ROW, "area_type": "LAD2021"})


def _event(row: dict[str, str]) -> dict[str, object]:
    parsed = OnsPopulationRow.model_validate(row)
    opts = options(FEED)
    ctx = SourceContext(FEED.name, opts.partner, FEED.source_key(parsed) or "", opts.pseudonymise)
    return FEED.to_envelope(parsed, ctx).model_dump()


def test_an_lsoa_estimate_is_on_its_2011_lsoa_at_mid_year() -> None:
    event = _event(ROW)
    assert event["location"] == AreaLocation(level="lsoa", code="E01020999", vintage="lsoa-2011").model_dump()
    assert event["occurred"] == {"start": date(2020, 6, 30), "end": date(2020, 6, 30), "precision": "day"}
    assert event["category"] == "population-lsoa"
    assert event["attributes"] == {
        "measure": "population",
        "count": 91,
        "sex": "persons",
        "age_band": "0-4",
        "year": 2020,
        "source": "mid-year-estimate",
    }
    assert FEED.source_key(OnsPopulationRow.model_validate(ROW)) == "E01020999|2020|persons|0-4|mid-year-estimate"


def test_a_census_count_is_on_census_day_and_keyed_apart_from_the_estimate() -> None:
    census = {**ROW, "area_code": "E07000061", "area_type": "LAD2021", "year": "2021", "source": "Census 2021 TS009"}
    event = _event(census)
    assert event["occurred"] == {"start": date(2021, 3, 21), "end": date(2021, 3, 21), "precision": "day"}
    assert event["location"] == AreaLocation(level="lad", code="E07000061").model_dump()
    assert source_key(OnsPopulationRow.model_validate(census)).endswith("|census")
    with pytest.raises(ValidationError, match="not a Census year"):
        OnsPopulationRow.model_validate({**census, "year": "2020"})


@pytest.mark.parametrize(("name", "rows"), [(LAD_MID2020_AGEBANDS, 952), (CENSUS_2021_SEX, 1986)])
def test_the_real_district_files_publish_in_full(name: str, rows: int) -> None:
    events, summary = publish(FEED, SHARED_DATA / name)
    assert (summary.read, summary.published, summary.rejected, summary.duplicates) == (rows, rows, 0, 0)
    assert {e.category for e in events} == {"population-district"}
