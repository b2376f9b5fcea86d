"""Coverage of the metric intervals, by seeded simulation.

For each metric and size, many evaluation sets are drawn from a population whose true metric is
known; a nominal 95% interval must contain the true value in 93-97% of them.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

from mlqa import check_metric

SIMULATIONS = 1000


def _accuracy(rng, n):
    y = rng.random(n) < 0.4
    correct = rng.random(n) < 0.85
    return y.astype(int), np.where(correct, y, ~y).astype(int)


def _roc_auc(rng, n):
    y = (rng.random(n) < 0.3).astype(int)
    return y, rng.normal(size=n) + 1.2 * y


def _f1(rng, n):
    y = rng.random(n) < 0.3
    pred = np.where(y, rng.random(n) < 0.8, rng.random(n) < 0.1)
    return y.astype(int), pred.astype(int)


def _rmse(rng, n):
    y = rng.normal(10, 3, n)
    return y, y + rng.normal(0, 1.5, n)


CASES = {
    # metric: (simulate, true value, method chosen by ci="auto")
    "accuracy": (_accuracy, 0.85, "wilson"),
    # fewer than 100 positives at n=200: Newcombe's score interval
    "roc_auc": (_roc_auc, NormalDist().cdf(1.2 / math.sqrt(2)), ("newcombe", "delong")),
    "f1": (_f1, 2 * 0.24 / (2 * 0.24 + 0.07 + 0.06), "dirichlet"),
    "rmse": (_rmse, 1.5, "bca"),
}


def coverage(metric, n, simulations=SIMULATIONS, seed=0):
    simulate, truth, method = CASES[metric]
    rng = np.random.default_rng([seed, n])
    hits = given = 0
    for i in range(simulations):
        y_true, y_pred = simulate(rng, n)
        # 1000 resamples, the least Efron & Tibshirani advise for BCa's tails (half the cost)
        r = check_metric(y_true, y_pred, metric, min=0.5, random_state=i, n_resamples=1000)
        assert r.ci_method in method
        if r.ci is None:  # refused, naming why (the loss tail diagnostic at small n)
            assert "tail index" in r.message
            continue
        given += 1
        hits += r.ci[0] <= truth <= r.ci[1]
    assert given >= 0.6 * simulations, f"{metric} n={n}: {given} intervals given"
    return hits / given


@pytest.mark.parametrize("n", [200, 2000])
@pytest.mark.parametrize("metric", sorted(CASES))
def test_95_percent_intervals_cover_the_true_value(metric, n):
    rate = coverage(metric, n)
    assert 0.93 <= rate <= 0.97, f"{metric} n={n}: coverage {rate:.3f}"
