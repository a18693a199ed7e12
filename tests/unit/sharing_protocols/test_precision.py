"""Precision: grid cells, and coarsening a place or a period to what a precision allows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from sharing_protocols.precision import Place, coarsen_period, coarsen_place, derivable, grid_cell

AREAS = {"lsoa": "E01020999", "ward": "E05011870", "district": "E07000061"}


@pytest.mark.parametrize(("x", "y"), [(561_234.5, 98_765.4), (561_200.0, 98_700.0), (561_299.999, 98_799.999)])
def test_grid_cells_are_identified_by_their_south_west_corner(x: float, y: float) -> None:
    assert grid_cell(x, y) == (561_200.0, 98_700.0)


@pytest.mark.parametrize(
    ("precision", "place"),
    [
        ("point", Place("point", x=561_234.5, y=98_765.4)),
        ("grid_100m", Place("grid_100m", x=561_200.0, y=98_700.0)),
        ("postcode_sector", Place("postcode_sector", code="BN21 4")),
        ("lsoa", Place("lsoa", code="E01020999")),
        ("ward", Place("ward", code="E05011870")),
        ("district", Place("district", code="E07000061")),
    ],
)
def test_coarsen_place_keeps_only_what_the_precision_allows(precision: Any, place: Place) -> None:
    assert coarsen_place(precision, 561_234.5, 98_765.4, AREAS, "BN21 4UH") == place


@pytest.mark.parametrize(
    ("precision", "x", "y", "areas", "postcode"),
    [
        ("postcode_sector", 561_234.5, 98_765.4, AREAS, None),
        ("ward", 561_234.5, 98_765.4, {"lsoa": "E01020999"}, None),
        ("grid_100m", None, None, AREAS, "BN21 4UH"),
    ],
)
def test_coarsen_place_never_falls_back_to_another_level(
    precision: Any, x: float | None, y: float | None, areas: dict[str, str], postcode: str | None
) -> None:
    assert coarsen_place(precision, x, y, areas, postcode) is None


@pytest.mark.parametrize(
    ("precision", "start", "end", "native", "at", "expected"),
    [
        ("month", date(2019, 1, 1), date(2019, 1, 31), "month", None, ("2019-01", "month")),
        ("day", date(2019, 1, 1), date(2019, 1, 31), "month", None, ("2019-01", "month")),  # no finer than the event
        ("day", date(2019, 1, 5), date(2019, 1, 5), "day", None, ("2019-01-05", "day")),
        ("month", date(2019, 1, 5), date(2019, 1, 5), "day", None, ("2019-01", "month")),
        ("day", date(2019, 1, 5), date(2019, 1, 7), "day", None, ("2019-01-05/2019-01-07", "day")),
        ("month", date(2019, 1, 30), date(2019, 2, 2), "day", None, ("2019-01/2019-02", "month")),
        ("timestamp", date(2019, 1, 5), date(2019, 1, 5), "day", None, ("2019-01-05", "day")),
        (
            "timestamp",
            date(2019, 1, 5),
            date(2019, 1, 5),
            "timestamp",
            datetime(2019, 1, 5, 23, 40),
            ("2019-01-05T23:40:00", "timestamp"),
        ),
        ("day", date(2019, 1, 5), date(2019, 1, 5), "timestamp", datetime(2019, 1, 5, 23, 40), ("2019-01-05", "day")),
    ],
)
def test_coarsen_period(
    precision: Any, start: date, end: date, native: Any, at: datetime | None, expected: tuple[str, str]
) -> None:
    assert coarsen_period(precision, start, end, native, at) == expected


@pytest.mark.parametrize(("finer", "coarser"), [("point", "ward"), ("ward", "district"), ("lsoa", "district")])
def test_a_precision_determines_the_coarser_levels_it_nests_in(finer: Any, coarser: Any) -> None:
    assert derivable(finer, coarser)


@pytest.mark.parametrize(("finer", "coarser"), [("lsoa", "ward"), ("grid_100m", "lsoa"), ("ward", "lsoa")])
def test_a_precision_does_not_determine_levels_it_does_not_nest_in(finer: Any, coarser: Any) -> None:
    assert not derivable(finer, coarser)
