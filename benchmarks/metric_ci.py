"""Metric confidence intervals on 1M rows: each mlqa method next to the naive way.

Anchor: one ``np.argsort`` of the 1M scores, measured in the same run; every interval is also
printed as a multiple of it (``x sort``), so the figures read the same on a loaded machine.
The naive way is scikit-learn's metric in a loop over 2000 resamples (rows drawn with
replacement); it is timed on a few resamples and extrapolated to 2000. Every figure is the
best of ``--repeats`` runs, all measured in this one run. Also printed: drawing 2000 x 1M
Poisson weights with ``Generator.poisson`` (timed on a slice, extrapolated) against mlqa's
chunked weighted sums, and the peak memory of the chunked bootstrap.

    python benchmarks/metric_ci.py [--rows 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
from sklearn import metrics as skm

from mlqa import check_metric
from mlqa.metrics.check import _evaluation, _validated
from mlqa.metrics.intervals import interval
from mlqa.metrics.registry import resolve_metric

RESAMPLES = 2000


def best(func, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def naive(metric, y, p, rng, sample=3):
    """scikit-learn metric on `sample` row resamples, seconds per resample."""
    n = len(y)

    def loop():
        for _ in range(sample):
            idx = rng.integers(0, n, n)
            metric(y[idx], p[idx])

    return best(loop, 1) / sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n, reps = args.rows, args.repeats
    rng = np.random.default_rng(0)
    y = (rng.random(n) < 0.3).astype(int)
    score = y + rng.normal(size=n)
    pred = (score > 0.5).astype(int)
    target = rng.normal(10, 3, n)
    estimate = target + rng.normal(0, 1.5, n)

    proba = 1 / (1 + np.exp(-score))
    y3 = rng.integers(0, 3, n)
    proba3 = np.eye(3)[y3] * 0.5 + rng.dirichlet(np.ones(3), n) * 0.5
    cases = [  # metric, y_true, y_pred, scikit-learn function, ci, target seconds
        ("roc_auc", y, score, skm.roc_auc_score, "auto", 0.3),
        ("average_precision", y, score, skm.average_precision_score, "auto", 1.0),
        ("roc_auc_ovr", y3, proba3, lambda a, b: skm.roc_auc_score(a, b, multi_class="ovr"),
         "auto", None),
        ("accuracy", y, pred, skm.accuracy_score, "auto", None),
        ("accuracy", y, pred, skm.accuracy_score, "multinomial", 0.1),
        ("f1", y, pred, skm.f1_score, "multinomial", 0.1),
        ("precision", y, pred, skm.precision_score, "multinomial", 0.1),
        ("recall", y, pred, skm.recall_score, "multinomial", 0.1),
        ("f1", y, pred, skm.f1_score, "auto", 0.1),
        ("balanced_accuracy", y, pred, skm.balanced_accuracy_score, "auto", 0.1),
        ("matthews_corrcoef", y, pred, skm.matthews_corrcoef, "auto", 0.1),
        ("rmse", target, estimate, skm.root_mean_squared_error, "auto", 15),
        ("mae", target, estimate, skm.mean_absolute_error, "auto", 15),
        ("r2", target, estimate, skm.r2_score, "auto", 15),
        ("r2", target, estimate, skm.r2_score, "bootstrap", 15),
        ("log_loss", y, proba, skm.log_loss, "auto", 15),
    ]
    print(f"{n} rows, {RESAMPLES} resamples, best of {reps}. interval = the interval alone; "
          f"check = check_metric whole (scikit-learn's point estimate and input checks "
          f"included); naive = scikit-learn's metric on {RESAMPLES} row resamples, "
          f"extrapolated from 3")
    t_sort = best(lambda: np.argsort(score), reps)
    print(f"anchor: np.argsort of {n} float64 scores {t_sort:.3f} s")
    print(f"{'metric':18s} {'method':12s} {'interval s':>10s} {'x sort':>7s} {'check s':>8s} "
          f"{'naive s':>8s} {'naive/interval':>14s} {'target s':>8s} {'target/interval':>15s}")
    for metric, truth, guess, func, ci, target_s in cases:
        kwargs = {"max": 1e9} if metric in ("rmse", "mae", "log_loss") else \
            {"min": -1 if metric == "matthews_corrcoef" else 0}
        resolved = resolve_metric(metric)
        ev = _evaluation(resolved, *_validated(resolved, truth, guess, None), None)
        result = check_metric(truth, guess, metric, ci=ci, **kwargs)
        method = result.ci_method
        t_interval = best(lambda e=ev, m=method: interval(e, m, 0.95, RESAMPLES, 0), reps)
        t_check = best(lambda t=truth, g=guess, m=metric, c=ci, k=kwargs:
                       check_metric(t, g, m, ci=c, **k), reps)
        t_naive = naive(func, truth, guess, rng) * RESAMPLES
        goal = f"{target_s:g}" if target_s else "-"
        margin = f"{target_s / t_interval:14.1f}x" if target_s else f"{'-':>15s}"
        print(f"{metric:18s} {method:12s} {t_interval:10.3f} {t_interval / t_sort:7.1f} "
              f"{t_check:8.3f} {t_naive:8.1f} "
              f"{t_naive / t_interval:13.0f}x {goal:>8s} {margin}", flush=True)

    # the Poisson weights themselves: Generator.poisson vs mlqa's chunked weighted sums
    slice_rows = 20
    t_poisson = best(lambda: rng.poisson(1.0, size=(slice_rows, n)), 1) * RESAMPLES / slice_rows
    from mlqa.stats.bootstrap import weighted_sums

    columns = np.column_stack([np.ones(n), (target - estimate) ** 2])
    t_sums = best(lambda: weighted_sums(columns, RESAMPLES), 1)
    tracemalloc.start()
    weighted_sums(columns, RESAMPLES)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"Poisson weights {RESAMPLES}x{n}: Generator.poisson {t_poisson:.1f} s (extrapolated "
          f"from {slice_rows}) vs weights + sums in mlqa {t_sums:.2f} s "
          f"({t_poisson / t_sums:.0f}x); mlqa peak memory {peak / 2**20:.0f} MiB "
          f"(the weights alone would be {RESAMPLES * n * 8 / 2**30:.0f} GiB as float64)")


if __name__ == "__main__":
    main()
