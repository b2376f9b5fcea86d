"""Seeded study of check_disparity and check_shadow: the figures docs/fairness.md quotes.

    python benchmarks/disparity_study.py [--seeds 400]

Disparity, binary labels at prevalence 0.4, FPR 0.1, TPR 0.8 in every group unless a gap is
set; the unequal sizes 1209/691/100 are those fairlearn's bootstrap interval was measured on
(docs/fairness.md):

* fair models (true gap 0): FAIL and PASS rates and the simultaneous coverage of every pair's
  interval (every compared pair and rate covered at once), per reference;
* a true TPR gap at the margin (0.05 vs max_difference=0.05): FAIL rate (<= alpha/2 expected);
* power: a 10-point TPR gap against max_difference=0.05 at n rows per group (two groups);
* the bias of the plain max-min point difference on fair data (what a point gate sees);
* ROC AUC (binormal scores, AUC = Phi(d / sqrt 2)): a gap at the margin (0.85 vs 0.80,
  max_difference=0.05) with each group's interval DeLong's alone and as the check makes it
  (Newcombe's joined with DeLong's); power for a 10-point AUC gap.

Shadow, exact: FAIL rate of the disagreement gate (max_disagreement=0.02) at a true rate of
0.02 (the boundary) and 0.05, per batch size, from the binomial distribution over the counts
whose Clopper-Pearson interval decides.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import stats

import mlqa
from mlqa.result import Outcome
from mlqa.stats.proportion import proportion_interval

SIZES = [1209, 691, 100]


def scored(seed: int, sizes: list[int], tpr: list[float], prev: float = 0.4,
           fpr: float = 0.1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    g = np.repeat([chr(ord("A") + i) for i in range(len(sizes))], sizes)
    y = rng.random(len(g)) < prev
    p = np.where(y, rng.random(len(g)) < np.repeat(tpr, sizes), rng.random(len(g)) < fpr)
    return y.astype(int), p.astype(int), g


def fair(seeds: int) -> None:
    print(f"fair models, sizes {SIZES}, max_difference=0.05, {seeds} seeds")
    print("metric          reference  FAIL   PASS   simultaneous coverage")
    for metric in ("recall", "equalized_odds"):
        for reference in ("overall", "best", "A"):
            fails = passes = covered = 0
            for seed in range(seeds):
                r = mlqa.check_disparity(*scored(seed, SIZES, [0.8] * 3), metric=metric,
                                         max_difference=0.05, reference=reference)
                fails += r.outcome is Outcome.FAIL
                passes += r.outcome is Outcome.PASS
                covered += all(q["low"] <= 0 <= q["high"] for p in r.pairs.values()
                               for q in p.details["parts"].values())
            print(f"{metric:15s} {reference:9s} {fails / seeds:6.3f} {passes / seeds:6.3f} "
                  f"{covered / seeds:6.3f}")
    gaps = []
    for seed in range(seeds):
        y, p, g = scored(seed, SIZES, [0.8] * 3)
        rates = [p[(g == k) & (y == 1)].mean() for k in "ABC"]
        gaps.append(max(rates) - min(rates))
    print(f"max-min point TPR difference on fair data: mean {np.mean(gaps):.4f}, "
          f"> 0.05 in {np.mean(np.array(gaps) > 0.05):.3f} of seeds")


def boundary_and_power(seeds: int) -> None:
    for n in (500, 1500, 3000):
        fails = sum(mlqa.check_disparity(*scored(s, [n, n], [0.8, 0.75]), max_difference=0.05,
                                         reference="A").outcome is Outcome.FAIL
                    for s in range(seeds))
        print(f"gap at the margin (0.05), {n} rows per group: FAIL {fails / seeds:.3f}")
    for n in (1000, 2000, 3000, 4000, 6000):
        found = sum(mlqa.check_disparity(*scored(s, [n, n], [0.8, 0.7]), max_difference=0.05,
                                         reference="A").outcome is Outcome.FAIL
                    for s in range(seeds))
        print(f"10-point gap vs margin 0.05, {n} rows per group: FAIL (found) {found / seeds:.3f}")


def auc_scored(seed: int, sizes: list[int], aucs: list[float], prev: float = 0.4
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    g = np.repeat([chr(ord("A") + i) for i in range(len(sizes))], sizes)
    y = (rng.random(len(g)) < prev).astype(int)
    shift = np.repeat([np.sqrt(2) * stats.norm.ppf(a) for a in aucs], sizes)
    return y, rng.normal(y * shift, 1), g


def auc(seeds: int) -> None:
    from mlqa.fairness import auc as module
    from mlqa.metrics.intervals import binary_auc_interval

    def delong_alone(a: float, variance: float, m: float, n: float, level: float
                     ) -> tuple[float, float, str]:
        iv = binary_auc_interval(a, variance, int(m), int(n), "delong", level)
        return iv.low, iv.high, "delong"

    joined = module.group_interval
    for sizes in ([150, 150], [400, 400], [1000, 1000]):
        for label, interval in (("DeLong alone", delong_alone), ("as checked", joined)):
            module.group_interval = interval  # type: ignore[assignment]
            try:
                fails = sum(mlqa.check_disparity(*auc_scored(s, sizes, [0.85, 0.80]),
                                                 metric="roc_auc", max_difference=0.05,
                                                 reference="A").outcome is Outcome.FAIL
                            for s in range(seeds))
            finally:
                module.group_interval = joined
            print(f"roc_auc gap at the margin, {sizes[0]} rows per group, {label}: "
                  f"FAIL {fails / seeds:.3f}")
    for n in (500, 1000, 2000):
        found = sum(mlqa.check_disparity(*auc_scored(s, [n, n], [0.85, 0.75]),
                                         metric="roc_auc", max_difference=0.05,
                                         reference="A").outcome is Outcome.FAIL
                    for s in range(seeds))
        print(f"10-point AUC gap vs margin 0.05, {n} rows per group: FAIL (found) "
              f"{found / seeds:.3f}")


def shadow() -> None:
    print("shadow, max_disagreement=0.02, exact FAIL rates")
    for n in (100, 200, 300, 400, 500, 600, 800, 1000, 2000):
        lows = np.array([proportion_interval(k, n, 0.95, "exact")[0] for k in range(n + 1)])
        deciding = np.flatnonzero(lows > 0.02)
        at, caught = (float(stats.binom.pmf(deciding, n, r).sum()) for r in (0.02, 0.05))
        print(f"n={n:5d}: true rate 0.02 FAIL {at:.4f}; true rate 0.05 FAIL {caught:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=400)
    args = parser.parse_args()
    start = time.perf_counter()
    fair(args.seeds)
    boundary_and_power(args.seeds)
    auc(args.seeds)
    shadow()
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
