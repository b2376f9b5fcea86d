"""Timing of check_regression's paired methods against the plain way of doing the same.

Anchor: a paired bootstrap written the obvious way (draw row indices, call the scikit-learn
metric on the candidate's and the baseline's resample). Both are timed in this run on the same
data, best of ``--repeats``; the anchor runs ``--anchor-resamples`` resamples and is scaled to
``--resamples`` (it is linear in the count). Prints seconds and the ratio.

    python benchmarks/regression.py --rows 1000000
"""

from __future__ import annotations

import argparse
import timeit

import numpy as np
from sklearn import metrics as skm

import mlqa


def best_of(repeats: int, func) -> float:
    return min(timeit.repeat(func, number=1, repeat=repeats))


def naive_paired_bootstrap(metric, y, cand, base, n_resamples: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    out = np.empty(n_resamples)
    for i in range(n_resamples):
        rows = rng.integers(0, len(y), len(y))
        out[i] = metric(y[rows], cand[rows]) - metric(y[rows], base[rows])
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--anchor-resamples", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n, b = args.rows, args.resamples
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, n)
    base = np.where(rng.random(n) < 0.85, y, 1 - y)
    cand = np.where(rng.random(n) < 0.95, base, 1 - base)
    score_b = y + rng.normal(scale=0.8, size=n)
    score_c = score_b + rng.normal(scale=0.3, size=n)
    yr = rng.normal(size=n)
    reg_b = yr + rng.normal(scale=0.5, size=n)
    reg_c = reg_b + rng.normal(scale=0.2, size=n)

    cases = [
        ("accuracy (McNemar)", lambda: mlqa.check_regression(y, cand, base, max_drop=0.01),
         skm.accuracy_score, (y, cand, base)),
        ("roc_auc (DeLong)", lambda: mlqa.check_regression(y, score_c, score_b, "roc_auc",
                                                           max_drop=0.01),
         skm.roc_auc_score, (y, score_c, score_b)),
        ("f1 (paired bootstrap)", lambda: mlqa.check_regression(
            y, cand, base, "f1", max_drop=0.01, n_resamples=b), skm.f1_score, (y, cand, base)),
        ("mae (paired bootstrap)", lambda: mlqa.check_regression(
            yr, reg_c, reg_b, "mae", max_drop=0.01, n_resamples=b),
         skm.mean_absolute_error, (yr, reg_c, reg_b)),
    ]
    print(f"rows={n} resamples={b} best of {args.repeats}; anchor: naive paired bootstrap "
          f"with scikit-learn, {args.anchor_resamples} resamples scaled to {b}")
    for name, ours, metric, data in cases:
        t_ours = best_of(args.repeats, ours)
        t_anchor = best_of(1, lambda metric=metric, data=data: naive_paired_bootstrap(
            metric, *data, args.anchor_resamples)) * b / args.anchor_resamples
        print(f"{name:<24} mlqa {t_ours:8.3f} s   anchor {t_anchor:9.1f} s   "
              f"ratio {t_anchor / t_ours:8.0f}x")


if __name__ == "__main__":
    main()
