"""api.getis_ord against Gi* computed in numpy from the Ord & Getis (1995) formula on a grid of squares."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from shapely.geometry import MultiPolygon, Polygon, box

from api.getis_ord import classify, gi_bin, hot_spots

SIDE = 1000.0  # metres, EPSG:27700
ORIGIN = (430_000.0, 290_000.0)
GRID = 5


def _square(row: int, col: int) -> Polygon:
    x, y = ORIGIN[0] + col * SIDE, ORIGIN[1] + row * SIDE
    return box(x, y, x + SIDE, y + SIDE)


def _grid(counts: list[list[int]]) -> list[tuple[str, Polygon | MultiPolygon, int]]:
    return [(f"E{r}{c}", _square(r, c), counts[r][c]) for r in range(GRID) for c in range(GRID)]


def _queen_star_matrix(cells: list[tuple[int, int]]) -> np.ndarray:
    """Binary weights: 1 between grid cells at most one step apart in each direction (so including the cell itself)."""
    n = len(cells)
    w = np.zeros((n, n))
    for i, (ri, ci) in enumerate(cells):
        for j, (rj, cj) in enumerate(cells):
            w[i, j] = float(abs(ri - rj) <= 1 and abs(ci - cj) <= 1)
    return w


def _textbook_gi_star(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Gi* = (sum_j w_ij x_j - xbar sum_j w_ij) / (S sqrt((n sum_j w_ij^2 - (sum_j w_ij)^2) / (n - 1)))."""
    n = len(x)
    xbar = x.sum() / n
    s = math.sqrt((x**2).sum() / n - xbar**2)
    wsum = w.sum(axis=1)
    w2sum = (w**2).sum(axis=1)
    return np.asarray((w @ x - xbar * wsum) / (s * np.sqrt((n * w2sum - wsum**2) / (n - 1))))


# high counts planted on the 3x3 block centred on (1, 1); a cold corner at (4, 4); zeros included
PLANTED = [
    [31, 38, 29, 3, 1],
    [35, 52, 40, 2, 0],
    [28, 33, 30, 4, 2],
    [5, 3, 1, 0, 0],
    [2, 4, 0, 0, 0],
]
CELLS = [(r, c) for r in range(GRID) for c in range(GRID)]


def test_z_scores_match_the_textbook_formula() -> None:
    spots = hot_spots(_grid(PLANTED))
    x = np.array([PLANTED[r][c] for r, c in CELLS], dtype=float)
    expected = _textbook_gi_star(x, _queen_star_matrix(CELLS))
    assert [s.code for s in spots] == [f"E{r}{c}" for r, c in CELLS]
    assert [s.count for s in spots] == [int(v) for v in x]
    z = np.array([s.z_score for s in spots], dtype=float)
    np.testing.assert_allclose(z, expected, rtol=0, atol=1e-9)


def test_planted_cluster_centre_is_hot_and_p_values_are_two_sided() -> None:
    spots = {s.code: s for s in hot_spots(_grid(PLANTED))}
    centre = spots["E11"]
    assert centre.gi_bin == 3
    assert centre.classification == "hot 99%"
    assert centre.p_sim is not None and centre.p_sim <= 0.01
    for spot in spots.values():
        assert spot.z_score is not None and spot.p_norm is not None
        assert spot.p_norm == pytest.approx(math.erfc(abs(spot.z_score) / math.sqrt(2)), rel=1e-12)
        assert spot.classification == classify(spot.gi_bin)
        assert spot.gi_bin == gi_bin(spot.z_score, spot.p_norm)
    # the far corner, surrounded by zeros, is below the mean but not significantly
    assert spots["E44"].z_score is not None and spots["E44"].z_score < 0


def test_planted_cold_spot() -> None:
    counts = [[20 + (r * 7 + c * 3) % 9 for c in range(GRID)] for r in range(GRID)]
    for r in range(1, 4):
        for c in range(1, 4):
            counts[r][c] = 0
    spots = {s.code: s for s in hot_spots(_grid(counts), permutations=0)}
    assert spots["E22"].classification == "cold 99%"
    assert spots["E22"].gi_bin == -3
    assert all(s.p_sim is None for s in spots.values())


def test_permutation_p_values_are_deterministic_for_a_seed() -> None:
    first = hot_spots(_grid(PLANTED), seed=7)
    assert first == hot_spots(_grid(PLANTED), seed=7)
    other = hot_spots(_grid(PLANTED), seed=8)
    assert [s.z_score for s in first] == [s.z_score for s in other]
    assert [s.p_sim for s in first] != [s.p_sim for s in other]
    assert all(s.p_sim is not None and 0 < s.p_sim <= 0.5 + 1e-9 for s in first)


def test_island_gets_no_z_and_others_still_match() -> None:
    far = box(ORIGIN[0] + 20 * SIDE, ORIGIN[1], ORIGIN[0] + 21 * SIDE, ORIGIN[1] + SIDE)
    areas = [*_grid(PLANTED), ("E99", far, 60)]
    spots = hot_spots(areas)
    island = spots[-1]
    assert (island.z_score, island.p_norm, island.p_sim) == (None, None, None)
    assert island.gi_bin == 0 and island.classification == "not significant"
    # the island's count still enters the global mean and S; its only weight is its own
    x = np.array([count for _, _, count in areas], dtype=float)
    w = np.zeros((len(areas), len(areas)))
    w[:-1, :-1] = _queen_star_matrix(CELLS)
    w[-1, -1] = 1.0
    expected = _textbook_gi_star(x, w)[:-1]
    np.testing.assert_allclose(np.array([s.z_score for s in spots[:-1]], dtype=float), expected, rtol=0, atol=1e-9)


def test_multipolygon_area_touches_each_of_its_parts_neighbours() -> None:
    # a row of four squares A, B, C, B where B is one area of two parts; D above A touches B at a corner; E above D
    squares = [_square(0, c) for c in range(4)]
    areas: list[tuple[str, Polygon | MultiPolygon, int]] = [
        ("A", squares[0], 5),
        ("B", MultiPolygon([squares[1], squares[3]]), 9),
        ("C", squares[2], 1),
        ("D", _square(1, 0), 3),
        ("E", _square(2, 0), 0),
    ]
    x = np.array([5, 9, 1, 3, 0], dtype=float)
    w = np.array(
        [[1, 1, 0, 1, 0], [1, 1, 1, 1, 0], [0, 1, 1, 0, 0], [1, 1, 0, 1, 1], [0, 0, 0, 1, 1]],
        dtype=float,
    )
    spots = hot_spots(areas, permutations=0)
    np.testing.assert_allclose(
        np.array([s.z_score for s in spots], dtype=float), _textbook_gi_star(x, w), rtol=0, atol=1e-9
    )


def test_area_next_to_every_other_area_gets_no_z() -> None:
    # the middle of three squares neighbours all areas: sum_j w_ij = n, so Gi* has zero variance
    areas: list[tuple[str, Polygon | MultiPolygon, int]] = [(f"A{c}", _square(0, c), 4 * c + 1) for c in range(3)]
    spots = hot_spots(areas)
    middle = spots[1]
    assert (middle.z_score, middle.p_norm, middle.p_sim, middle.classification) == (None, None, None, "not significant")
    x = np.array([1, 5, 9], dtype=float)
    w = np.array([[1, 1, 0], [1, 1, 1], [0, 1, 1]], dtype=float)
    with np.errstate(invalid="ignore"):
        expected = _textbook_gi_star(x, w)
    assert [spots[0].z_score, spots[2].z_score] == pytest.approx([expected[0], expected[2]], abs=1e-9)


def test_no_variation_gives_no_z_scores() -> None:
    spots = hot_spots(_grid([[0] * GRID for _ in range(GRID)]))
    assert all(s.z_score is None and s.p_norm is None and s.p_sim is None for s in spots)
    assert {s.classification for s in spots} == {"not significant"}


def test_gi_bin_thresholds_follow_arcgis_for_hot_spots() -> None:
    assert [gi_bin(2.7, 0.007), gi_bin(2.0, 0.045), gi_bin(1.7, 0.09), gi_bin(1.5, 0.13)] == [3, 2, 1, 0]


def test_gi_bin_thresholds_follow_arcgis_for_cold_spots() -> None:
    assert [gi_bin(-2.7, 0.007), gi_bin(-2.0, 0.045), gi_bin(-1.7, 0.09)] == [-3, -2, -1]


def test_an_area_without_a_score_is_in_no_bin() -> None:
    assert gi_bin(None, None) == 0


def test_each_bin_has_its_arcgis_class() -> None:
    assert [classify(b) for b in (3, 2, 1, 0, -1, -2, -3)] == [
        "hot 99%",
        "hot 95%",
        "hot 90%",
        "not significant",
        "cold 90%",
        "cold 95%",
        "cold 99%",
    ]


def test_a_bin_out_of_range_has_no_class() -> None:
    with pytest.raises(ValueError):
        classify(4)


@pytest.mark.parametrize(
    ("areas", "permutations", "problem"),
    [
        (lambda: _grid(PLANTED)[:2], 999, "at least 3 areas"),
        (lambda: [("A", _square(0, 0), 1), ("A", _square(0, 1), 2), ("B", _square(0, 2), 3)], 999, "unique"),
        (lambda: [("A", _square(0, 0), 1), ("B", _square(0, 1), -2), ("C", _square(0, 2), 3)], 999, "non-negative"),
        (lambda: [("A", _square(0, 0), 1), ("B", Polygon(), 2), ("C", _square(0, 2), 3)], 999, "Polygon"),
        (lambda: _grid(PLANTED), -1, "permutations"),
    ],
    ids=["too-few", "duplicate-code", "negative-count", "empty-polygon", "negative-permutations"],
)
def test_invalid_input_raises(areas: Callable[[], list[Any]], permutations: int, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        hot_spots(areas(), permutations=permutations)
