"""Record keys as the sink's rows get them: uniform random in 0..65535, drawn per row, never from content."""

from __future__ import annotations

from collections import Counter

from sharing_protocols.perturbation import RECORD_KEY_MODULUS
from warehouse.sink import new_record_key


def test_record_keys_are_uniform_over_the_modulus() -> None:
    keys = [new_record_key() for _ in range(64_000)]
    assert min(keys) >= 0 and max(keys) < RECORD_KEY_MODULUS
    # 16 equal bins of 4,000 expected each: chi-square with 15 degrees of freedom, 37.7 is its 0.999 quantile
    bins = Counter(k * 16 // RECORD_KEY_MODULUS for k in keys)
    chi2 = sum((bins[b] - 4_000) ** 2 / 4_000 for b in range(16))
    assert chi2 < 37.7
    # distinct keys among 64,000 uniform draws: 65,536 x (1 - e^(-64000/65536)) = 40,855 expected, sd about 90
    assert len(set(keys)) > 40_000
