"""A rate's interval under the cell key method: the Garwood interval widened in quadrature for the variance."""

from __future__ import annotations

import math

import pytest
from scipy.stats import chi2

from api.services.rates import perturbed_interval


def _garwood(count: int) -> tuple[float, float]:
    lower = 0.0 if count == 0 else chi2.ppf(0.025, 2 * count) / 2
    return float(lower), float(chi2.ppf(0.975, 2 * count + 2) / 2)


def test_without_perturbation_it_is_the_garwood_interval_scaled() -> None:
    lower, upper = _garwood(40)
    assert perturbed_interval(40, 20_000, 1000, 0.0) == pytest.approx((lower / 20, upper / 20))


def test_the_variance_widens_each_side_in_quadrature() -> None:
    lower, upper = _garwood(40)
    extra = 1.959964 * math.sqrt(2.0)  # z(97.5%) x sqrt(V), in counts
    expected = (40 - math.hypot(40 - lower, extra), 40 + math.hypot(upper - 40, extra))
    assert perturbed_interval(40, 20_000, 1000, 2.0) == pytest.approx((expected[0] / 20, expected[1] / 20), rel=1e-6)


def test_the_lower_end_is_never_negative() -> None:
    assert perturbed_interval(0, 1000, 1000, 2.0)[0] == 0.0
    assert perturbed_interval(5, 1000, 1000, 25.0)[0] == 0.0
