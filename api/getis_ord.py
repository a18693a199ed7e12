"""Getis-Ord Gi* hot and cold spots over area counts (PySAL esda), classified as ArcGIS's Gi_Bin."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from esda.getisord import G_Local
from libpysal.weights import Queen, W
from scipy.stats import norm
from shapely.geometry import MultiPolygon, Polygon

DEFAULT_SEED = 20_240_601
# Two-sided normal p-value thresholds of ArcGIS's Gi_Bin: +-3 at 99%, +-2 at 95%, +-1 at 90% confidence.
_BINS = ((0.01, 3, "99%"), (0.05, 2, "95%"), (0.10, 1, "90%"))


@dataclass(frozen=True)
class HotSpot:
    """Gi* for one area. z_score, p_norm and p_sim are None where Gi* is undefined.

    That is an island (no neighbours), an area neighbouring every other area, or counts that are all equal.
    """

    code: str
    count: int
    z_score: float | None
    p_norm: float | None  # two-sided, from the standard normal approximation
    p_sim: float | None  # pseudo p-value from seeded conditional permutations (directed, one-sided); None if not run
    gi_bin: int  # -3..3 as ArcGIS: sign is hot (+) or cold (-), magnitude 3/2/1 is 99/95/90% confidence, 0 not
    classification: str  # "hot 99%", ..., "cold 90%" or "not significant"


def gi_bin(z_score: float | None, p_norm: float | None) -> int:
    """ArcGIS Gi_Bin from a z-score and its two-sided p-value: +-3, +-2, +-1 at 99/95/90% confidence, else 0."""
    if z_score is None or p_norm is None:
        return 0
    for threshold, magnitude, _ in _BINS:
        if p_norm < threshold:
            return magnitude if z_score > 0 else -magnitude
    return 0


def classify(bin_value: int) -> str:
    """Label of a Gi_Bin value: "hot 99%" ... "cold 90%", or "not significant" for 0."""
    if bin_value == 0:
        return "not significant"
    for _, magnitude, level in _BINS:
        if abs(bin_value) == magnitude:
            return f"{'hot' if bin_value > 0 else 'cold'} {level}"
    raise ValueError(f"Gi_Bin must be between -3 and 3, got {bin_value!r}")


def _validate(areas: Sequence[tuple[str, Polygon | MultiPolygon, int]]) -> None:
    if len(areas) < 3:
        raise ValueError(f"Gi* needs at least 3 areas, got {len(areas)}")
    codes = [code for code, _, _ in areas]
    if len(set(codes)) != len(codes):
        raise ValueError("area codes must be unique")
    for code, geometry, count in areas:
        if not isinstance(geometry, Polygon | MultiPolygon) or geometry.is_empty:
            raise ValueError(f"area {code!r} needs a non-empty Polygon or MultiPolygon")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"area {code!r} count must be a non-negative integer, got {count!r}")


def star_weights(geometries: Sequence[Polygon | MultiPolygon]) -> tuple[W, list[int]]:
    """Binary Queen contiguity (shared boundary vertex) with each area its own neighbour, and the island indices."""
    queen = Queen.from_iterable(list(geometries), silence_warnings=True)
    neighbours = {i: sorted({i, *queen.neighbors[i]}) for i in range(len(geometries))}
    islands = [i for i in range(len(geometries)) if not queen.neighbors[i]]
    return W(neighbours, silence_warnings=True), islands


def hot_spots(
    areas: Sequence[tuple[str, Polygon | MultiPolygon, int]],
    *,
    permutations: int = 999,
    seed: int = DEFAULT_SEED,
) -> list[HotSpot]:
    """Getis-Ord Gi* of each area's count over binary Queen contiguity including the area itself, in input order.

    `areas` are (code, polygon in a projected CRS such as EPSG:27700, count) and should include zero-count areas.
    z-scores are Ord & Getis (1995) Gi*; p_norm is two-sided and decides the classification. `permutations` > 0
    adds esda's seeded conditional-permutation pseudo p-value (deterministic for a given seed).
    """
    _validate(areas)
    if permutations < 0:
        raise ValueError(f"permutations must be >= 0, got {permutations!r}")
    counts = np.array([count for _, _, count in areas], dtype=float)
    weights, islands = star_weights([geometry for _, geometry, _ in areas])
    z_scores: list[float | None] = [None] * len(areas)
    p_sims: list[float | None] = [None] * len(areas)
    if counts.std() > 0:  # with no variation Gi* is 0/0
        with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
            # esda warns that the default permutation alternative ("directed") will change in a future release
            warnings.filterwarnings("ignore", message="The alternative hypothesis", category=DeprecationWarning)
            result = G_Local(
                counts,
                weights,
                transform="B",
                permutations=permutations,
                star=True,
                keep_simulations=False,
                n_jobs=1,
                seed=seed,
            )
        # z is 0/0 for an area that neighbours every area (sum_j w_ij = n): Gi* has no variance there
        undefined = set(islands) | {i for i, z in enumerate(result.Zs) if not np.isfinite(z)}
        z_scores = [None if i in undefined else float(z) for i, z in enumerate(result.Zs)]
        if permutations:
            p_sims = [None if i in undefined else float(p) for i, p in enumerate(result.p_sim)]
    spots = []
    for (code, _, count), z_score, p_sim in zip(areas, z_scores, p_sims, strict=True):
        p_norm = None if z_score is None else float(2 * norm.sf(abs(z_score)))
        bin_value = gi_bin(z_score, p_norm)
        spots.append(HotSpot(code, count, z_score, p_norm, p_sim, bin_value, classify(bin_value)))
    return spots
