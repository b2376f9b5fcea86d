"""check_trend's false-alarm rate and power on seeded histories, and its time per check.

Prints one table: for each kind of history, the share of seeds where check_trend FAILs, finds
any change point, and puts a failing one where the shift is (a step: within 2 builds of its
start; a ratchet: along it); and the mean time per check.
Histories are accuracies measured on ``--rows`` rows (binomial draws: about 0.42 points of
run-to-run noise at 0.90 with 5,000 rows), ``--builds`` builds, the current build last.

    python benchmarks/trend_power.py --seeds 1000
    python benchmarks/trend_power.py --seeds 200 --builds 100 --n-permutations 999

tests/trend/test_trend_power.py asserts the stated rates on fewer seeds.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import mlqa
from mlqa import Outcome


def histories(builds: int) -> dict[str, tuple[list[float], range]]:
    """name -> (levels, where a failing change point counts as located); the shift starts 10
    builds from the end: a step within 2 builds of it, a ratchet anywhere along it."""
    start = builds - 10
    near = range(start - 2, start + 3)
    return {
        "flat 0.90": ([0.90] * builds, range(0)),
        "1-point drop": ([0.90] * start + [0.89] * 10, near),
        "1.5-point drop": ([0.90] * start + [0.885] * 10, near),
        "ratchet -0.4/release x10": ([0.90] * start + [0.90 - 0.004 * k for k in range(1, 11)],
                                     range(start - 2, builds)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=300)
    parser.add_argument("--builds", type=int, default=30)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--n-permutations", type=int, default=199)
    parser.add_argument("--min-magnitude", type=float, default=0.0)
    args = parser.parse_args()
    print(f"{args.seeds} seeds, {args.builds} builds, alpha {args.alpha}, "
          f"{args.n_permutations} permutations, min_magnitude {args.min_magnitude}")
    print(f"{'history':28} {'FAIL':>6} {'any cp':>7} {'located':>8} {'ms/check':>9}")
    for name, (levels, where) in histories(args.builds).items():
        fail = found = located = 0
        began = time.perf_counter()
        for seed in range(args.seeds):
            rng = np.random.default_rng(10_000 + seed)
            r = mlqa.check_trend(rng.binomial(args.rows, levels) / args.rows, alpha=args.alpha,
                                 n_permutations=args.n_permutations,
                                 min_magnitude=args.min_magnitude, random_state=seed)
            fail += r.outcome is Outcome.FAIL
            found += bool(r.change_points)
            located += any(c.fails and c.index in where for c in r.change_points)
        ms = (time.perf_counter() - began) / args.seeds * 1000
        share = [x / args.seeds for x in (fail, found, located)]
        print(f"{name:28} {share[0]:6.3f} {share[1]:7.3f} "
              f"{f'{share[2]:.3f}' if where else '-':>8} {ms:9.1f}")


if __name__ == "__main__":
    main()
