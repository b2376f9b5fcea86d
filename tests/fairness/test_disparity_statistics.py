"""Seeded validation of check_disparity's decisions (figures quoted in docs/fairness.md).

* fair data (true gap 0), the unequal sizes fairlearn's interval fails on (1209/691/100):
  FAIL at most alpha, and every compared pair covered at once in >= 1 - alpha of seeds;
* a true gap exactly at the margin: FAIL at most alpha (one side of the interval);
* a 10-point TPR gap against a 0.05 margin: found (FAIL) in >= 80% of seeds at 4000 rows per
  group (prevalence 0.4; measured 90.5% over 200 seeds, 79.5% at 3000, 39.5% at 1000);
* a group below min_group_size: INCONCLUSIVE, never FAIL, even with a huge gap.
"""

from __future__ import annotations

import numpy as np
import pytest

import mlqa
from mlqa.result import Outcome

pytestmark = pytest.mark.statistical
SIZES = [1209, 691, 100]


def scored(seed, sizes, tpr, prev=0.4, fpr=0.1):
    rng = np.random.default_rng(seed)
    g = np.repeat([chr(ord("A") + i) for i in range(len(sizes))], sizes)
    y = rng.random(len(g)) < prev
    p = np.where(y, rng.random(len(g)) < np.repeat(tpr, sizes), rng.random(len(g)) < fpr)
    return y.astype(int), p.astype(int), g


@pytest.mark.parametrize("reference", ["overall", "best", "A"])
def test_fair_models_fail_at_most_alpha_and_pairs_are_covered_simultaneously(reference):
    seeds = 100
    fails = covered = 0
    for seed in range(seeds):
        r = mlqa.check_disparity(*scored(seed, SIZES, [0.8] * 3), metric="equalized_odds",
                                 max_difference=0.05, reference=reference)
        fails += r.outcome is Outcome.FAIL
        covered += all(part["low"] <= 0 <= part["high"] for p in r.pairs.values()
                       for part in p.details["parts"].values())
    assert fails / seeds <= 0.05
    assert covered / seeds >= 0.93  # nominal 0.95 simultaneous (Bonferroni: at least that)


def test_a_gap_at_the_margin_fails_at_most_alpha():
    seeds = 300
    fails = sum(mlqa.check_disparity(*scored(seed, [1500, 1500], [0.8, 0.75]),
                                     max_difference=0.05, reference="A").outcome
                is Outcome.FAIL for seed in range(seeds))
    assert fails / seeds <= 0.05


def test_a_ten_point_gap_is_found_at_four_thousand_rows_per_group():
    seeds = 80
    found = sum(mlqa.check_disparity(*scored(1000 + seed, [4000, 4000], [0.8, 0.7]),
                                     max_difference=0.05, reference="A").outcome
                is Outcome.FAIL for seed in range(seeds))
    assert found / seeds >= 0.8


def test_small_groups_are_inconclusive_never_fail():
    for seed in range(100):
        r = mlqa.check_disparity(*scored(seed, [2000, 25], [0.9, 0.2]), max_difference=0.05,
                                 reference="A", min_group_size=30)
        assert r.pairs["B vs A"].outcome is Outcome.INCONCLUSIVE


def test_roc_auc_gap_at_the_margin_fails_at_most_alpha():
    """400 rows per group (160 positives): DeLong's regime, where its Wald interval alone
    FAILed 5.0% of 300 seeds at the margin; joined with Newcombe's, 2.3%."""
    from scipy.stats import norm

    seeds, fails = 100, 0
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        g = np.repeat(["A", "B"], [400, 400])
        y = (rng.random(800) < 0.4).astype(int)
        shift = np.where(g == "A", np.sqrt(2) * norm.ppf(0.85), np.sqrt(2) * norm.ppf(0.80))
        r = mlqa.check_disparity(y, rng.normal(y * shift, 1), g, metric="roc_auc",
                                 max_difference=0.05, reference="A")
        fails += r.outcome is Outcome.FAIL
    assert fails / seeds <= 0.05
