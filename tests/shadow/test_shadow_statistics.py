"""Seeded validation of check_shadow (figures quoted in docs/fairness.md).

The disagreement gate is an exact binomial bound, so its error rates are computed exactly
(sum of binomial probabilities over the counts whose interval decides) and checked against a
simulation of real predictions: with max_disagreement=0.02, a candidate that truly disagrees
on 2% of rows FAILs with probability <= 2.1% at any n in 100..1000; one disagreeing on 5% is
caught with 82% at n=300, 90% at 400, 94% at 500, 98% at 600. An identical candidate never
FAILs, PASSes from n=183 (the exact upper bound at k=0 is 1 - 0.025^(1/n)), and its
prediction drift against the evaluation set false-alarms at most alpha.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import mlqa
from mlqa.result import Outcome
from mlqa.stats.proportion import proportion_interval

pytestmark = pytest.mark.statistical


def exact_fail_rate(n, rate, limit=0.02):
    lows = np.array([proportion_interval(k, n, 0.95, "exact")[0] for k in range(n + 1)])
    return float(stats.binom.pmf(np.flatnonzero(lows > limit), n, rate).sum())


def test_exact_error_rates_at_the_boundary_and_at_five_percent():
    assert max(exact_fail_rate(n, 0.02) for n in (100, 200, 400, 1000)) <= 0.025
    assert exact_fail_rate(400, 0.05) >= 0.9


def test_simulated_rates_agree_with_the_exact_ones(flipped):
    seeds = 300
    boundary = sum(mlqa.check_shadow(*flipped(1000, 0.02, s), max_disagreement=0.02).outcome
                   is Outcome.FAIL for s in range(seeds)) / seeds
    caught = sum(mlqa.check_shadow(*flipped(400, 0.05, s), max_disagreement=0.02).outcome
                 is Outcome.FAIL for s in range(seeds)) / seeds
    assert boundary <= 0.05
    assert abs(caught - exact_fail_rate(400, 0.05)) < 0.06


def test_an_identical_candidate_never_fails_and_passes_once_the_batch_bounds_it(flipped):
    _, champion = flipped(400, 0.0)
    assert mlqa.check_shadow(champion[:182], champion[:182], max_disagreement=0.02
                             ).outcome is Outcome.INCONCLUSIVE
    assert mlqa.check_shadow(champion[:183], champion[:183], max_disagreement=0.02
                             ).outcome is Outcome.PASS


def test_prediction_drift_of_an_identical_candidate_false_alarms_at_most_alpha():
    seeds = 100
    fails = 0
    for s in range(seeds):
        rng = np.random.default_rng(s)
        evaluation, traffic = rng.beta(2, 5, 2000), rng.beta(2, 5, 1000)
        r = mlqa.check_shadow(traffic, traffic, max_score_shift=0.01,
                              evaluation_pred=evaluation)
        fails += r.outcome is Outcome.FAIL
    assert fails / seeds <= 0.05
