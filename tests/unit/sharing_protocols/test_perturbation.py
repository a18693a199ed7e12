"""The cell key method: the packaged perturbation table, its generator and checks, parsing, and `perturb`."""

from __future__ import annotations

import itertools
import math
import random
from pathlib import Path

import pytest

import sharing_protocols
from sharing_protocols.perturbation import (
    RECORD_KEY_MODULUS,
    PerturbationTableError,
    cell_key,
    check_table_document,
    key_ranges,
    parse_table,
    perturb,
    perturbation,
)
from tools.make_perturbation_table import Parameters, distribution, document, main, support

PACKAGED = Path(sharing_protocols.__file__).parent / "perturbation_tables" / "hub-cell-key-1.yaml"
TEXT = PACKAGED.read_text(encoding="utf-8")
TABLE = parse_table(TEXT, "hub-cell-key-1.yaml")
D, V, JS = 5, 2.0, 4  # the packaged table's parameters, as docs/protocols.md states them


def test_the_packaged_table_states_its_parameters_and_is_what_the_generator_makes() -> None:
    assert (TABLE.label, TABLE.maximum_perturbation, TABLE.variance, TABLE.small_count_threshold) == (
        "hub-cell-key@1",
        D,
        V,
        JS,
    )
    assert [row.count for row in TABLE.rows] == list(range(JS + D + 2))
    assert document(Parameters(D, V, JS)) == TEXT  # reproducible: same parameters, same numbers
    assert main(["--check", "--out", str(PACKAGED)]) == 0


def test_every_row_sums_to_one_stays_within_d_and_never_releases_a_small_count() -> None:
    for row in TABLE.rows:
        assert math.isclose(sum(e.probability for e in row.perturbations), 1.0, abs_tol=1e-12)
        for entry in row.perturbations:
            released = row.count + entry.p
            assert abs(entry.p) <= D and released >= 0
            assert not 1 <= released <= JS
    assert [(e.p, e.probability) for e in TABLE.rows[0].perturbations] == [(0, 1.0)]


def test_small_counts_go_to_zero_or_just_above_the_threshold_without_bias() -> None:
    # Worked by hand: a count n of 1..4 can only become 0 (p = -n) or 5..n+5; mean 0 with the least variance puts
    # weight (5-n)/5 on -n and n/5 on 5-n, a variance of n(5-n).
    for n in range(1, JS + 1):
        row = {e.p: e.probability for e in TABLE.rows[n].perturbations}
        assert row == pytest.approx({-n: (5 - n) / 5, 5 - n: n / 5}, abs=1e-6)
        assert TABLE.rows[n].moments() == pytest.approx((0.0, n * (5 - n)), abs=1e-5)


def test_rows_with_full_support_have_mean_zero_variance_v_and_maximum_entropy_shape() -> None:
    for n in range(JS + D + 1, TABLE.top_count + 1):
        row = TABLE.rows[n]
        assert [e.p for e in row.perturbations] == list(range(-D, D + 1))
        mean, variance = row.moments()
        assert abs(mean) < 1e-5 and abs(variance - V) < 1e-4
        # maximum entropy under mean and variance: log q(p) is a quadratic in p (constant second differences)
        logs = [math.log(e.probability) for e in row.perturbations[2:-2]]  # tails are rounded to 1e-6
        second = [logs[i - 1] - 2 * logs[i] + logs[i + 1] for i in range(1, len(logs) - 1)]
        assert max(second) - min(second) < 1e-3


def test_the_generator_clips_the_variance_to_what_a_support_allows() -> None:
    params = Parameters(maximum_perturbation=3, variance=1.0, small_count_threshold=2)
    assert support(1, params) == [-1, 2, 3]
    assert distribution(1, params) == pytest.approx({-1: 2 / 3, 2: 1 / 3, 3: 0.0}, abs=1e-9)
    assert support(3, params) == [-3, 0, 1, 2, 3]  # 3-1 and 3-2 would show 2 and 1; 3-3 shows 0
    # a count of 1 can be 0 or 3..4: mean 0 needs variance at least 1 x 2 = 2 > V, so the two-point distribution
    with pytest.raises(ValueError, match="D must be at least js"):
        Parameters(maximum_perturbation=2, variance=1.0, small_count_threshold=3)


def test_another_table_generated_and_parsed_passes_its_checks(tmp_path: Path) -> None:
    out = tmp_path / "t.yaml"
    assert main(["-D", "3", "-V", "1", "--js", "2", "--id", "small", "--out", str(out)]) == 0
    table = parse_table(out.read_text(encoding="utf-8"), str(out))
    assert table.label == "small@1" and table.top_count == 6
    assert check_table_document(out.read_text(encoding="utf-8"), str(out)) == []


def _with(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "path", "message"),
    [
        ("{p: 4, probability: 0.2}", "{p: 4, probability: 0.3}", "rows[1].perturbations", "sum to 1.1"),
        ("{p: 4, probability: 0.2}", "{p: 6, probability: 0.2}", "rows[1].perturbations[1].p", "maximum"),
        ("{p: -1, probability: 0.8}, {p: 4", "{p: 5, probability: 0.8}, {p: 4", "rows[1].perturbations", "order"),
        ("[{p: 0, probability: 1.0}]", "[{p: 2, probability: 1.0}]", "rows[0].perturbations[0].p", "small counts"),
        ("{p: -2, probability: 0.6}", "{p: -3, probability: 0.6}", "rows[2].perturbations[0].p", "negative"),
        ("variance: 2\n", "variance: 2.5\n", "rows[10].perturbations", "variance is 2.0"),
        ("  - count: 2\n", "  - count: 7\n", "rows[2].count", "must be 2"),
        ("small_count_threshold: 4", "small_count_thresold: 4", "small_count_thresold", "not a field"),
        ("id: hub-cell-key", "id: Hub Cell Key", "id", "lower-case letters"),
    ],
)
def test_a_broken_table_is_refused_naming_file_and_field(old: str, new: str, path: str, message: str) -> None:
    text = _with(TEXT, old, new)
    problems = check_table_document(text, "mine.yaml")
    assert any(p.source == "mine.yaml" and p.path == path and message in p.message for p in problems), problems
    with pytest.raises(PerturbationTableError) as raised:
        parse_table(text, "mine.yaml")
    assert f"mine.yaml: {path}: " in str(raised.value)


def test_a_biased_row_with_full_support_is_refused() -> None:
    text = _with(TEXT, "{p: -1, probability: 0.219642}", "{p: -1, probability: 0.209642}")
    text = _with(text, "{p: 0, probability: 0.281938}", "{p: 0, probability: 0.291938}")  # mean moves by +0.01
    problems = check_table_document(text, "b.yaml")
    assert [(p.path, p.message) for p in problems] == [
        ("rows[10].perturbations", "mean perturbation is 0.010000, not 0")
    ]


def test_the_cell_key_is_the_sum_of_record_keys_modulo_the_modulus() -> None:
    assert RECORD_KEY_MODULUS == 65536
    assert cell_key([]) == 0
    assert cell_key([65535, 1]) == 0 and cell_key([40000, 30000, 7]) == 4471
    keys = [random.Random(1).randrange(RECORD_KEY_MODULUS) for _ in range(50)]
    assert cell_key(keys) == cell_key(reversed(keys))  # the order records are counted in does not matter


def test_perturb_zero_stays_zero_small_counts_never_show_and_p_stays_within_d() -> None:
    rng = random.Random(13)
    for _ in range(20_000):
        count, key = rng.randrange(0, 60), rng.randrange(RECORD_KEY_MODULUS)
        released = perturb(count, key, TABLE)
        assert released >= 0 and not 1 <= released <= JS and abs(released - count) <= D
        assert released == perturb(count, key, TABLE)  # equal inputs, equal outputs
    assert {perturb(0, k, TABLE) for k in range(0, RECORD_KEY_MODULUS, 7)} == {0}
    with pytest.raises(ValueError):
        perturb(3, RECORD_KEY_MODULUS, TABLE)


def test_every_cell_key_maps_to_one_perturbation_in_the_tables_proportions() -> None:
    for row in TABLE.rows:
        ranges = key_ranges(row)
        assert ranges[0][1] == 0 and ranges[-1][2] == RECORD_KEY_MODULUS
        assert all(a[2] == b[1] for a, b in itertools.pairwise(ranges))
        for (p, start, end), entry in zip(ranges, row.perturbations, strict=True):
            assert p == entry.p
            assert abs((end - start) / RECORD_KEY_MODULUS - entry.probability) <= 1 / RECORD_KEY_MODULUS
            if end > start:
                assert perturbation(row.count, start, TABLE) == p == perturbation(row.count, end - 1, TABLE)


def test_over_random_cell_keys_the_perturbations_mean_and_variance_are_the_tables() -> None:
    # 40,000 uniform keys: the sample mean's standard error is sqrt(V/N) = 0.0071 for V = 2, so 5 standard errors
    # is 0.035; the sample variance's is about V * sqrt((kurtosis - 1)/N) < 0.03, so 0.15 is five and more.
    rng = random.Random(2021)
    for count in (1, 3, 5, 7, 10, 250):
        ps = [perturb(count, rng.randrange(RECORD_KEY_MODULUS), TABLE) - count for _ in range(40_000)]
        mean = sum(ps) / len(ps)
        variance = sum((p - mean) ** 2 for p in ps) / (len(ps) - 1)
        want_mean, want_variance = TABLE.row(count).moments()
        assert abs(mean - want_mean) < 5 * math.sqrt(want_variance / len(ps)) + 1e-9
        assert abs(variance - want_variance) < 0.15 * max(want_variance, 1.0)
