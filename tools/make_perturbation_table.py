"""Generate a cell key perturbation table (ONS style), reproducibly, and write it as the hub's YAML document.

    python tools/make_perturbation_table.py                 # rewrite the packaged default table
    python tools/make_perturbation_table.py --check         # exit 1 unless the packaged table is what this makes
    python tools/make_perturbation_table.py -D 5 -V 2 --js 4 --out my-table.yaml --id my-table --version 1

The procedure is deterministic (no random numbers, so there is no seed to keep): for each count n from 0 to the
top row T = js + D + 1 (from there on every perturbation in -D..D is allowed, so larger counts use row T):

1. n = 0: the perturbation is 0 (zero is never perturbed).
2. support: the perturbations p in -D..D with n + p >= 0 and n + p not in 1..js (for 1 <= n <= js, p = 0 is
   excluded too: a small count is never shown as its true value);
3. the range of variances a distribution on the support with mean 0 can have (two linear programmes); the target
   is V clipped into that range (small counts cannot be perturbed with variance as low as V);
4. inside the range: the maximum-entropy distribution with mean 0 and variance V, q(p) proportional to
   exp(a p + b p^2), (a, b) found by minimising the convex dual log sum exp(a p + b p^2) - b V; at an end of the
   range: the linear programme's distribution there (for a small count, 0 or the nearest values above js);
5. probabilities rounded to multiples of 1e-6 by largest remainder, so each row sums to exactly 1; zeros dropped.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linprog, minimize

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sharing_protocols.perturbation import check_table_document  # noqa: E402

PACKAGED = ROOT / "sharing_protocols" / "perturbation_tables" / "hub-cell-key-1.yaml"
RESOLUTION = 1_000_000  # probabilities are multiples of 1 / RESOLUTION


@dataclass(frozen=True)
class Parameters:
    """What a table is generated from: maximum perturbation D, variance V, small-count threshold js."""

    maximum_perturbation: int = 5
    variance: float = 2.0
    small_count_threshold: int = 4

    def __post_init__(self) -> None:
        if self.small_count_threshold > self.maximum_perturbation:
            raise ValueError("D must be at least js, or a count of 1 can be neither 0 nor above js")
        if not 0 < self.variance <= self.maximum_perturbation**2:
            raise ValueError("V must be above 0 and at most D squared")

    @property
    def top_count(self) -> int:
        return self.small_count_threshold + self.maximum_perturbation + 1


DEFAULT = Parameters()


def support(n: int, params: Parameters) -> list[int]:
    """The perturbations allowed for a count of n."""
    d, js = params.maximum_perturbation, params.small_count_threshold
    if n == 0:
        return [0]
    return [p for p in range(-d, d + 1) if n + p >= 0 and not 1 <= n + p <= js]


def _extreme(values: np.ndarray, sign: int) -> np.ndarray:
    """The mean-0 distribution on `values` of least (sign 1) or greatest (sign -1) variance."""
    result = linprog(
        sign * values**2,
        A_eq=np.vstack([np.ones_like(values), values]),
        b_eq=[1.0, 0.0],
        bounds=[(0, None)] * len(values),
        method="highs",
    )
    if not result.success:
        raise ValueError("no distribution with mean 0 on this support")
    return np.asarray(result.x)


def _max_entropy(values: np.ndarray, variance: float) -> np.ndarray:
    """The maximum-entropy distribution on `values` with mean 0 and the given variance."""

    def dual(theta: np.ndarray) -> float:
        exponent = theta[0] * values + theta[1] * values**2
        top = exponent.max()
        return float(top + math.log(np.exp(exponent - top).sum()) - theta[1] * variance)

    result = minimize(dual, np.zeros(2), method="Nelder-Mead", options={"xatol": 1e-12, "fatol": 1e-15})
    result = minimize(dual, result.x, method="BFGS", options={"gtol": 1e-12})
    exponent = result.x[0] * values + result.x[1] * values**2
    weights = np.exp(exponent - exponent.max())
    return np.asarray(weights / weights.sum())


def distribution(n: int, params: Parameters) -> dict[int, float]:
    """The perturbation distribution of a count of n (before rounding)."""
    values = np.array(support(n, params), dtype=float)
    if len(values) == 1:
        return {int(values[0]): 1.0}
    low, high = _extreme(values, 1), _extreme(values, -1)
    v_low, v_high = float(low @ values**2), float(high @ values**2)
    if params.variance <= v_low + 1e-9:
        q = low
    elif params.variance >= v_high - 1e-9:
        q = high
    else:
        q = _max_entropy(values, params.variance)
    return {int(p): float(x) for p, x in zip(values, q, strict=True)}


def rounded(q: dict[int, float]) -> dict[int, int]:
    """Probabilities as whole millionths summing to RESOLUTION (largest remainder); zeros dropped."""
    scaled = {p: x * RESOLUTION for p, x in q.items()}
    whole = {p: math.floor(x) for p, x in scaled.items()}
    short = RESOLUTION - sum(whole.values())
    for p in sorted(scaled, key=lambda p: (whole[p] - scaled[p], p))[:short]:
        whole[p] += 1
    return {p: m for p, m in sorted(whole.items()) if m > 0}


def rows(params: Parameters) -> list[dict[int, int]]:
    """Each count's perturbations in millionths, for counts 0..top_count."""
    return [rounded(distribution(n, params)) for n in range(params.top_count + 1)]


def _probability(millionths: int) -> str:
    return f"{millionths / RESOLUTION:.6f}".rstrip("0").rstrip(".") if millionths < RESOLUTION else "1.0"


def document(params: Parameters, table_id: str = "hub-cell-key", version: int = 1) -> str:
    """The YAML document of the table made from `params`."""
    d, v, js = params.maximum_perturbation, params.variance, params.small_count_threshold
    lines = [
        "# Generated by tools/make_perturbation_table.py; do not edit by hand (change the parameters and rerun).",
        "kind: perturbation_table",
        f"id: {table_id}",
        f"version: {version}",
        f"title: Cell key perturbation, maximum {d}, variance {v:g}, no released count of 1-{js}",
        "procedure: >-",
        f"  tools/make_perturbation_table.py -D {d} -V {v:g} --js {js}: deterministic. For each count n up to",
        f"  {params.top_count}, the maximum-entropy distribution on the perturbations p in -{d}..{d} with n + p not",
        f"  negative and not in 1-{js}, with mean 0 and variance {v:g} (clipped into the variances a mean-0",
        "  distribution on that support can have), rounded to millionths by largest remainder.",
        f"maximum_perturbation: {d}",
        f"variance: {v:g}",
        f"small_count_threshold: {js}",
        "rows:",
    ]
    for n, row in enumerate(rows(params)):
        entries = ", ".join(f"{{p: {p}, probability: {_probability(m)}}}" for p, m in row.items())
        lines += [f"  - count: {n}", f"    perturbations: [{entries}]"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-D", "--maximum-perturbation", type=int, default=DEFAULT.maximum_perturbation)
    parser.add_argument("-V", "--variance", type=float, default=DEFAULT.variance)
    parser.add_argument("--js", type=int, default=DEFAULT.small_count_threshold, help="no released count of 1..js")
    parser.add_argument("--id", default="hub-cell-key")
    parser.add_argument("--version", type=int, default=1)
    parser.add_argument("--out", type=Path, default=PACKAGED)
    parser.add_argument("--check", action="store_true", help="compare with --out instead of writing it")
    args = parser.parse_args(argv)
    params = Parameters(args.maximum_perturbation, args.variance, args.js)
    text = document(params, args.id, args.version)
    problems = check_table_document(text, str(args.out))
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    if args.check:
        same = args.out.is_file() and args.out.read_text(encoding="utf-8") == text
        print(f"{args.out}: {'as generated' if same else 'differs from what the parameters generate'}")
        return 0 if same else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"{args.out}: written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
