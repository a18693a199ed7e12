"""api.significance against hand-computed binomial tails, published Garwood bounds and the Poisson CDF."""

from __future__ import annotations

import math
from dataclasses import FrozenInstanceError

import pytest

from api.significance import (
    METHOD,
    PERTURBED_METHOD,
    Change,
    compare,
    exact_poisson_test,
    perturbed_poisson_test,
    poisson_interval,
    rate_interval,
)


def _binomial_pmf(k: int, n: int, p: float) -> float:
    return math.comb(n, k) * p**k * (1 - p) ** (n - k)


def _two_sided_binomial(k: int, n: int, p: float) -> float:
    """Sum of the probabilities of outcomes no more likely than the observed one (the usual exact two-sided test)."""
    observed = _binomial_pmf(k, n, p)
    tail = sum(_binomial_pmf(i, n, p) for i in range(n + 1) if _binomial_pmf(i, n, p) <= observed * (1 + 1e-7))
    return min(1.0, tail)


def _poisson_cdf(k: int, mean: float) -> float:
    return sum(math.exp(-mean) * mean**i / math.factorial(i) for i in range(k + 1))


@pytest.mark.parametrize(
    ("current", "base", "ratio"),
    [(12, 5, 1.0), (5, 12, 1.0), (30, 30, 1.0), (48, 31, 1.0), (0, 7, 1.0), (40, 15, 2.0), (9, 30, 0.5), (1, 0, 1.0)],
)
def test_exact_poisson_test_is_the_two_sided_conditional_binomial(current: int, base: int, ratio: float) -> None:
    expected = _two_sided_binomial(current, current + base, ratio / (1 + ratio))
    assert exact_poisson_test(current, base, ratio) == pytest.approx(expected, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize(("current", "previous"), [(0, 10), (10, 0)])
def test_exact_poisson_test_all_events_in_one_period(current: int, previous: int) -> None:
    # all 10 events in one period: P = 2 * 0.5**10
    assert exact_poisson_test(current, previous) == pytest.approx(2 * 0.5**10, rel=1e-12)


@pytest.mark.parametrize(("current", "previous"), [(5, 5), (0, 0)])
def test_exact_poisson_test_equal_counts_are_not_significant(current: int, previous: int) -> None:
    assert exact_poisson_test(current, previous) == 1.0


def test_exact_poisson_test_weighs_the_exposure() -> None:
    # current period twice as exposed, 20 vs 10 is exactly what the null expects
    assert exact_poisson_test(20, 10, exposure_ratio=2.0) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("count", "published"),
    [
        (0, (0.0, 3.689)),
        (1, (0.025, 5.572)),
        (2, (0.242, 7.225)),
        (5, (1.623, 11.668)),
        (10, (4.795, 18.390)),
        (20, (12.217, 30.888)),
    ],
)
def test_poisson_interval_matches_published_garwood_bounds(count: int, published: tuple[float, float]) -> None:
    lower, upper = poisson_interval(count)
    assert lower == pytest.approx(published[0], abs=6e-4)
    assert upper == pytest.approx(published[1], abs=6e-4)


@pytest.mark.parametrize("count", [1, 3, 10, 37])
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_poisson_interval_bounds_leave_alpha_over_two_in_each_tail(count: int, confidence: float) -> None:
    alpha = 1 - confidence
    lower, upper = poisson_interval(count, confidence)
    # P(X >= count | lower) = alpha/2 and P(X <= count | upper) = alpha/2
    assert 1 - _poisson_cdf(count - 1, lower) == pytest.approx(alpha / 2, rel=1e-8)
    assert _poisson_cdf(count, upper) == pytest.approx(alpha / 2, rel=1e-8)


def test_poisson_interval_for_zero_starts_at_zero() -> None:
    lower, upper = poisson_interval(0)
    assert lower == 0.0
    assert upper == pytest.approx(-math.log(0.025), rel=1e-10)  # P(X = 0 | upper) = 0.025


def test_rate_interval_scales_the_count_interval() -> None:
    lower, upper = rate_interval(10, 5000, 1000)
    assert lower == pytest.approx(4.795 / 5, abs=2e-4)
    assert upper == pytest.approx(18.390 / 5, abs=2e-4)
    count_lower, count_upper = poisson_interval(7, 0.99)
    assert rate_interval(7, 120_000, 100_000, confidence=0.99) == pytest.approx(
        (count_lower / 1.2, count_upper / 1.2), rel=1e-12
    )


def test_compare_reports_change_and_significance() -> None:
    change = compare(48, 31)
    p_value = _two_sided_binomial(48, 79, 0.5)
    assert change == Change(
        current=48,
        base=31,
        absolute_change=17,
        percent_change=pytest.approx(17 / 31 * 100),  # type: ignore[arg-type]
        p_value=pytest.approx(p_value),  # type: ignore[arg-type]
        significant=p_value < 0.05,
        indicative=False,
        method="exact conditional Poisson test",
    )
    assert 0.05 < p_value < 0.1  # so the flag is really tested both ways below
    assert not change.significant
    assert compare(48, 31, alpha=0.1).significant
    assert compare(60, 31).significant
    with pytest.raises(FrozenInstanceError):
        change.p_value = 0.0  # type: ignore[misc]


def test_compare_percent_change_is_none_from_zero() -> None:
    change = compare(4, 0)
    assert change.percent_change is None
    assert change.absolute_change == 4
    assert compare(0, 4).percent_change == -100.0


def test_compare_flags_small_counts_as_indicative() -> None:
    assert compare(19, 50).indicative
    assert compare(50, 19).indicative
    assert not compare(20, 20).indicative
    assert compare(20, 20, indicative_below=21).indicative
    assert not compare(5, 5, indicative_below=5).indicative


def test_compare_uses_the_exposure_ratio() -> None:
    assert compare(40, 20).significant
    assert not compare(40, 20, exposure_ratio=2.0).significant


@pytest.mark.parametrize(
    "call",
    [
        lambda: exact_poisson_test(-1, 3),
        lambda: exact_poisson_test(1, 3, exposure_ratio=0.0),
        lambda: exact_poisson_test(1, 3, exposure_ratio=math.inf),
        lambda: poisson_interval(3, 1.0),
        lambda: poisson_interval(2.5),  # type: ignore[arg-type]
        lambda: rate_interval(3, 0, 1000),
        lambda: rate_interval(3, 100, -1),
        lambda: compare(3, 4, alpha=0.0),
    ],
)
def test_invalid_arguments_raise(call: object) -> None:
    assert callable(call)
    with pytest.raises(ValueError):
        call()


# --- counts perturbed by the cell key method: the perturbation's variance V is added --------------------------


@pytest.mark.parametrize(
    ("current", "base", "variance", "ratio", "expected"),
    [
        # z = (|12 - 4| - 1) / sqrt(12 + 4 + 2 x 2) = 7 / sqrt(20) = 1.5652; 2 x (1 - Phi(1.5652)) from the table
        (12, 4, 2.0, 1.0, 0.11753),
        # z = (|13 - 4| - 1) / sqrt(21) = 1.7457; exact test alone: 2 x 3214 / 2**17 = 0.0490 (significant)
        (13, 4, 2.0, 1.0, 0.08086),
        # z = (|40 - 20| - 1) / sqrt(64) = 2.375
        (40, 20, 2.0, 1.0, 0.01755),
        # exposure ratio 2: D = |20 - 2 x 5| - 3/2 = 8.5, variance 2 x 25 + (1 + 4) x 2 = 60, z = 1.0973
        (20, 5, 2.0, 2.0, 0.27250),
        (5, 5, 2.0, 1.0, 1.0),  # no difference
        (0, 0, 2.0, 1.0, 1.0),  # nothing counted
    ],
)
def test_perturbed_poisson_test_against_hand_computed_normal_tails(
    current: int, base: int, variance: float, ratio: float, expected: float
) -> None:
    assert perturbed_poisson_test(current, base, variance, ratio) == pytest.approx(expected, abs=2e-4)


@pytest.mark.parametrize(("current", "base"), [(12, 4), (13, 4), (40, 20), (0, 7), (3, 3)])
def test_perturbed_poisson_test_without_variance_is_the_exact_test(current: int, base: int) -> None:
    assert perturbed_poisson_test(current, base, 0.0) == exact_poisson_test(current, base)


def test_the_perturbation_never_makes_a_change_more_significant() -> None:
    for current in range(0, 60, 3):
        for base in range(0, 60, 4):
            exact = exact_poisson_test(current, base)
            p_values = [perturbed_poisson_test(current, base, v) for v in (0.5, 2.0, 8.0)]
            assert exact <= p_values[0] <= p_values[1] <= p_values[2], (current, base)


def test_compare_adds_the_variance_and_names_the_test() -> None:
    exact = compare(13, 4)
    perturbed = compare(13, 4, variance=2.0)
    assert (exact.significant, exact.method) == (True, METHOD)
    assert (perturbed.significant, perturbed.method) == (False, PERTURBED_METHOD)
    assert perturbed.p_value == pytest.approx(0.08086, abs=2e-4)
    assert (perturbed.absolute_change, perturbed.indicative) == (9, True)
    assert "a + b + 2V" in PERTURBED_METHOD


def test_a_negative_variance_is_refused() -> None:
    with pytest.raises(ValueError, match="variance"):
        perturbed_poisson_test(3, 4, -1.0)
